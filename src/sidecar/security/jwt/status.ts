// Why a JWT was refused, with the exact texts Envoy (jwt_verify_lib) puts in the 401 body.

export const JWT_STATUS_TEXT = {
  missing: 'Jwt is missing',
  notYetValid: 'Jwt not yet valid',
  expired: 'Jwt is expired',
  badFormat: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  headerBadBase64: 'Jwt header is an invalid Base64url encoded',
  headerBadJson: 'Jwt header is an invalid JSON',
  headerBadAlg: 'Jwt header [alg] field is required and must be a string',
  headerNotImplementedAlg: 'Jwt header [alg] is not supported',
  headerBadKid: 'Jwt header [kid] field is not a string',
  payloadBadBase64: 'Jwt payload is an invalid Base64url encoded',
  payloadBadJson: 'Jwt payload is an invalid JSON',
  issNotString: 'Jwt payload [iss] field is not a string',
  subNotString: 'Jwt payload [sub] field is not a string',
  iatNotInteger: 'Jwt payload [iat] field is not an integer',
  nbfNotInteger: 'Jwt payload [nbf] field is not an integer',
  expNotInteger: 'Jwt payload [exp] field is not an integer',
  jtiNotString: 'Jwt payload [jti] field is not a string',
  audNotString: 'Jwt payload [aud] field is not a string or string list',
  signatureBadBase64: 'Jwt signature is an invalid Base64url encoded',
  unknownIssuer: 'Jwt issuer is not configured',
  audienceNotAllowed: 'Audiences in Jwt are not allowed',
  verificationFail: 'Jwt verification fails',
  kidAlgMismatch: "Jwks doesn't have key to match kid or alg from Jwt",
} as const;

export type JwtStatus = keyof typeof JWT_STATUS_TEXT;

/** Envoy answers 403 for a wrong audience (the token is valid, just not for this service) and 401 otherwise. */
export function httpStatusFor(status: JwtStatus): 401 | 403 {
  return status === 'audienceNotAllowed' ? 403 : 401;
}
