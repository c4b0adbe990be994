/**
 * Workload identity: SPIFFE IDs and matchers, X.509-SVID validation, a development CA, an
 * SVID source that follows a SPIRE-agent style directory, and `node:tls` options for mutual
 * TLS between sidecars that check the peer's SPIFFE ID.
 *
 * @example
 * ```ts
 * const source = await SvidSource.open({ dir: "/run/skiff/svid", clock, log, metrics });
 * source.watch();
 * const server = tls.createServer(serverOptions(source, { alpn: ["h2"] }), (socket) => {
 *   const peer = peerSpiffeId(socket);
 *   if (!peer || !allow(peer)) return socket.destroy();
 * });
 * const socket = tls.connect({ host, port, ...connectOptions(source, { expect, alpn: ["h2"] }) });
 * ```
 * @module
 */
export {
  MAX_SPIFFE_ID_LENGTH,
  MAX_TRUST_DOMAIN_LENGTH,
  SpiffeId,
  spiffeIdProblem,
  trustDomainProblem,
} from "./spiffe_id.ts";
export {
  compileMatcher,
  matches,
  type SpiffeIdPredicate,
  type SpiffeMatcher,
} from "./spiffe_matcher.ts";
export {
  parseSvid,
  type Svid,
  SvidError,
  type SvidProblem,
  uriSans,
  validateSvid,
} from "./svid.ts";
export {
  type CertificateAuthority,
  createCa,
  type CreateCaOptions,
  issue,
  type IssuedSvid,
  type IssueOptions,
  type KeyUsageName,
  loadCa,
} from "./ca.ts";
export { CA_FILES, readCaFiles, SVID_FILES, writeCaFiles, writeSvidFiles } from "./svid_files.ts";
export { loadSvidDir, type SvidSnapshot } from "./load_svid_dir.ts";
export { type SvidListener, SvidSource, type SvidSourceOptions } from "./svid_source.ts";
export {
  connectOptions,
  type ConnectOptionsParams,
  PeerIdentityError,
  peerSpiffeId,
  serverOptions,
  type SvidProvider,
} from "./mtls.ts";
export { caCommand, type CaCommandIo, type CaCommandOptions } from "./ca_command.ts";
export { CA_USAGE } from "./ca_usage.ts";
export {
  type AuthzDecision,
  AuthzPolicy,
  type AuthzRequest,
  type AuthzRule,
  type PathMatcher,
} from "./authz.ts";
