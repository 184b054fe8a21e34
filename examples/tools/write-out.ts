// curl's -w/--write-out templates: `%{http_code}`, `%{time_total}` and friends, with \n escapes.

export interface WriteOutValues {
  httpCode: number;
  timeTotalSeconds: number;
  sizeDownload: number;
  sizeHeader: number;
  contentType: string;
  urlEffective: string;
  httpVersion: string;
  exitCode: number;
  errorMessage: string;
}

export function formatWriteOut(template: string, v: WriteOutValues): string {
  const vars: Record<string, string> = {
    http_code: String(v.httpCode).padStart(3, '0'),
    response_code: String(v.httpCode).padStart(3, '0'),
    time_total: v.timeTotalSeconds.toFixed(6),
    size_download: String(v.sizeDownload),
    size_header: String(v.sizeHeader),
    content_type: v.contentType,
    url_effective: v.urlEffective,
    http_version: v.httpVersion,
    exitcode: String(v.exitCode),
    errormsg: v.errorMessage,
  };
  return template
    .replace(/%\{([a-z_]+)\}/g, (whole, name: string) => vars[name] ?? whole)
    .replace(/\\([nrt\\])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t', '\\': '\\' })[c]!)
    .replace(/%%/g, '%');
}
