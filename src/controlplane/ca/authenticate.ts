// Who is asking for a certificate: a workload token (istio-agent's `authorization: Bearer`) or a client cert.

import { X509Certificate } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { isTrellisError } from '../../shared/errors.js';
import { parseWorkloadId, spiffeIdOfSubjectAltName, workloadId } from '../../shared/spiffe.js';
import { CertificateRefused } from './refusals.js';
import type { TokenVerifier } from './token-verifier.js';

export interface CallerCredentials {
  /** The raw value of the `authorization` metadata, if any. */
  authorization?: string;
  /** DER of the client certificate, only when TLS verified it against the trust bundle. */
  verifiedClientCertificate?: Buffer;
}

export interface AuthenticatedCaller {
  namespace: string;
  serviceAccount: string;
  spiffeId: string;
  via: 'token' | 'client-certificate' | 'token+client-certificate';
  podName?: string;
  podUid?: string;
  /** Serial of the verified client certificate, when one authenticated the call. */
  clientCertSerial?: string;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function fromCertificate(der: Buffer, trustDomain: string, now: number): Omit<AuthenticatedCaller, 'via'> {
  const cert = new X509Certificate(der);
  const uri = spiffeIdOfSubjectAltName(cert.subjectAltName);
  const id = uri ? parseWorkloadId(uri) : undefined;
  if (!uri || !id) {
    throw new CertificateRefused(
      'CLIENT_CERT_INVALID',
      `client certificate (serial ${cert.serialNumber.toLowerCase()}) carries no single workload SPIFFE ID`,
    );
  }
  if (id.trustDomain !== trustDomain) {
    throw new CertificateRefused(
      'CLIENT_CERT_INVALID',
      `client certificate identity ${uri} is outside trust domain "${trustDomain}"`,
    );
  }
  // A long-lived HTTP/2 connection can outlive the certificate it was opened with.
  if (new Date(cert.validTo).getTime() <= now) {
    throw new CertificateRefused(
      'CLIENT_CERT_INVALID',
      `client certificate ${uri} (serial ${cert.serialNumber.toLowerCase()}) expired at ${new Date(cert.validTo).toISOString()}`,
    );
  }
  return {
    namespace: id.namespace,
    serviceAccount: id.serviceAccount,
    spiffeId: uri,
    clientCertSerial: cert.serialNumber.toLowerCase(),
  };
}

/**
 * Authenticates a caller. A valid client certificate suffices (renewals); otherwise the bearer token
 * must verify. When both are valid they must name the same workload.
 */
export async function authenticateCaller(
  creds: CallerCredentials,
  opts: { verifier: TokenVerifier; trustDomain: string; clock: Clock },
): Promise<AuthenticatedCaller> {
  let certCaller: Omit<AuthenticatedCaller, 'via'> | undefined;
  let certError: CertificateRefused | undefined;
  if (creds.verifiedClientCertificate) {
    try {
      certCaller = fromCertificate(creds.verifiedClientCertificate, opts.trustDomain, opts.clock.now());
    } catch (e) {
      if (!(e instanceof CertificateRefused)) throw e;
      certError = e;
    }
  }
  let tokenCaller: Omit<AuthenticatedCaller, 'via'> | undefined;
  let tokenError: CertificateRefused | undefined;
  if (creds.authorization !== undefined) {
    const m = BEARER.exec(creds.authorization);
    if (!m) {
      tokenError = new CertificateRefused(
        'TOKEN_INVALID',
        'authorization metadata is not of the form "Bearer <token>"',
      );
    } else {
      try {
        const t = await opts.verifier.verify(m[1]!);
        tokenCaller = {
          namespace: t.namespace,
          serviceAccount: t.serviceAccount,
          spiffeId: workloadId({
            trustDomain: opts.trustDomain,
            namespace: t.namespace,
            serviceAccount: t.serviceAccount,
          }),
          ...(t.podName ? { podName: t.podName } : {}),
          ...(t.podUid ? { podUid: t.podUid } : {}),
        };
      } catch (e) {
        const reason = isTrellisError(e, 'TOKEN_EXPIRED') ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID';
        tokenError = new CertificateRefused(reason, (e as Error).message, { cause: e });
      }
    }
  }
  if (certCaller && tokenCaller) {
    if (certCaller.spiffeId !== tokenCaller.spiffeId) {
      throw new CertificateRefused(
        'CREDENTIALS_DISAGREE',
        `token is for ${tokenCaller.spiffeId} but the client certificate is ${certCaller.spiffeId}`,
      );
    }
    return { ...certCaller, ...tokenCaller, via: 'token+client-certificate' };
  }
  if (certCaller) return { ...certCaller, via: 'client-certificate' };
  if (tokenCaller) return { ...tokenCaller, via: 'token' };
  throw (
    tokenError ??
    certError ??
    new CertificateRefused(
      'UNAUTHENTICATED',
      'no credentials: send "authorization: Bearer <workload token>" metadata or a client certificate issued by this CA',
    )
  );
}
