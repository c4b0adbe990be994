/**
 * The usage lines of `skiff ca`, apart from the command so the CLI can show them without
 * loading the X.509 library.
 */
export const CA_USAGE = `  skiff ca init --out DIR [--trust-domain example.org] [--ttl 8760h]
                               create a development root CA (ca.pem, ca_key.pem)
  skiff ca issue --ca DIR --spiffe-id spiffe://TD/PATH --out DIR [--ttl 1h]
                 [--not-before RFC3339-TIME]
                               issue an X.509-SVID (svid.pem, svid_key.pem, bundle.pem)`;
