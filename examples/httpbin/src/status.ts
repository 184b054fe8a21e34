// httpbin's /status/<codes>: one code, or a weighted choice such as `200:3,503:1`.

export interface StatusReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Picks a code from `200`, `200,503` or `200:0.9,503:0.1`; undefined when the text is not valid. */
export function pickStatus(codes: string, random: () => number = Math.random): number | undefined {
  const choices: { code: number; weight: number }[] = [];
  for (const choice of codes.split(',')) {
    const [codeText, weightText] = choice.split(':');
    const code = Number(codeText);
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (!/^\d+$/.test(codeText ?? '') || !Number.isFinite(weight) || weight < 0) return undefined;
    choices.push({ code, weight });
  }
  if (choices.length === 1) return choices[0]!.code;
  const total = choices.reduce((sum, c) => sum + c.weight, 0);
  let point = random() * total;
  for (const c of choices) {
    if (point < c.weight) return c.code;
    point -= c.weight;
  }
  return choices[choices.length - 1]!.code;
}

const TEAPOT = `
    -=[ teapot ]=-

       _...._
     .'  _ _ \`.
    | ."\` ^ \`". _,
    \\_;\`"---"\`|//
      |       ;/
      \\_     _/
        \`"""\`
`;

/** The headers and body httpbin sends with some codes (redirects point at /redirect/1, 418 draws a teapot). */
export function statusReply(code: number): StatusReply {
  if ([301, 302, 303, 305, 307].includes(code)) {
    return { status: code, headers: { location: '/redirect/1' }, body: '' };
  }
  switch (code) {
    case 401:
      return { status: code, headers: { 'www-authenticate': 'Basic realm="Fake Realm"' }, body: '' };
    case 407:
      return { status: code, headers: { 'proxy-authenticate': 'Basic realm="Fake Realm"' }, body: '' };
    case 418:
      return { status: code, headers: { 'x-more-info': 'http://tools.ietf.org/html/rfc2324' }, body: TEAPOT };
    default:
      return { status: code, headers: {}, body: '' };
  }
}
