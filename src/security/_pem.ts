const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/g;

/** One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`) and its DER bytes. */
export interface PemBlock {
  label: string;
  der: Uint8Array;
}

/** Every PEM block in `text`, in order; text between blocks is ignored. */
export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(BLOCK)].map((m) => ({
    label: m[1],
    der: Uint8Array.from(atob(m[2].replace(/\s+/g, "")), (c) => c.charCodeAt(0)),
  }));
}

/** The DER bytes of every `CERTIFICATE` block in `text`. */
export function pemCertificates(text: string): Uint8Array[] {
  return pemBlocks(text).filter((b) => b.label === "CERTIFICATE").map((b) => b.der);
}

/** Encodes DER bytes as one PEM block with 64-character lines and a trailing newline. */
export function toPem(label: string, der: Uint8Array | ArrayBuffer): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  const lines = btoa(bin).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
