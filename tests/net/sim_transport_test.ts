import { SimNetwork } from "../../src/net/sim/mod.ts";
import { transportConformance } from "./transport_conformance.ts";

transportConformance("SimTransport", (n) => {
  const net = new SimNetwork({ seed: 42, defaults: { latencyMs: 2 } });
  const nodes = Array.from({ length: n }, (_, i) => net.node(`node-${i}`));
  const driver = net.drive();
  return Promise.resolve({
    transports: nodes.map((x) => x.transport),
    deadAddress: "nobody-home",
    dispose: async () => {
      for (const x of nodes) await x.transport.close();
      await driver.stop();
    },
  });
});
