/** Splits a compact JWS into its decoded header, claims, signing input and signature. */
export function decodeJwt(jwt: string) {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(p, 'base64url').toString()),
    input: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}
