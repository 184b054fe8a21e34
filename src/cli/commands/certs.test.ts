import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assessCertificate, type CertRow, formatTimeLeft } from './certs.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-06-01T00:00:00Z');

function row(kind: CertRow['kind'], notBefore: number, notAfter: number): CertRow {
  return {
    source: 'test',
    kind,
    subject: '',
    spiffeId: undefined,
    serial: '01',
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
  };
}

test('a workload certificate warns under 20% of its lifetime or under an hour', () => {
  assert.equal(assessCertificate(row('workload', NOW - 12 * HOUR, NOW + 12 * HOUR), NOW).status, 'ok');
  const late = assessCertificate(row('workload', NOW - 20 * HOUR, NOW + 4 * HOUR), NOW);
  assert.equal(late.status, 'warning');
  assert.match(late.note!, /17% of its lifetime left/);
  const short = assessCertificate(row('workload', NOW - 10 * 60_000, NOW + 50 * 60_000), NOW);
  assert.equal(short.status, 'warning');
  assert.match(short.note!, /under 1h/);
});

test('a root warns under 30 days; expired and not-yet-valid are reported as such', () => {
  assert.equal(assessCertificate(row('root', NOW - 3000 * DAY, NOW + 31 * DAY), NOW).status, 'ok');
  const soon = assessCertificate(row('signing root', NOW - 3000 * DAY, NOW + 29 * DAY), NOW);
  assert.equal(soon.status, 'warning');
  assert.match(soon.note!, /signing root expires in 29d \(under 30 days\)/);
  assert.equal(assessCertificate(row('workload', NOW - 2 * DAY, NOW - DAY), NOW).status, 'expired');
  assert.equal(assessCertificate(row('intermediate', NOW + DAY, NOW + 9 * DAY), NOW).status, 'not yet valid');
});

test('time left reads at the precision that matters', () => {
  assert.equal(formatTimeLeft(3650 * DAY), '3650d');
  assert.equal(formatTimeLeft(2 * DAY + 4 * HOUR + 5000), '2d 4h');
  assert.equal(formatTimeLeft(5 * HOUR + 12 * 60_000), '5h 12m');
  assert.equal(formatTimeLeft(12 * 60_000 + 3000), '12m 3s');
  assert.equal(formatTimeLeft(42_000), '42s');
});
