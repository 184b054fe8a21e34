// PEM text in and out: splitting bundles into certificates and writing them back.

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate block in a PEM text, each normalised to end with a newline. */
export function splitPemCertificates(text: string): string[] {
  return [...text.matchAll(CERT_BLOCK)].map((m) => `${m[0].trim()}\n`);
}

/** Joins PEM blocks into one text, one block after another. */
export function joinPem(blocks: readonly string[]): string {
  return blocks.map((b) => (b.endsWith('\n') ? b : `${b}\n`)).join('');
}
