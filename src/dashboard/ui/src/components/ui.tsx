// Small building blocks every page uses: cards, badges, health dots, stats, and loading/error/empty notes.

import type { ComponentChildren } from 'preact';
import type { Health, MessageLevel, SyncState } from '../../../../controlplane/api/types.js';

export function Card(props: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  testid?: string;
  class?: string;
}) {
  return (
    <section class={`card ${props.class ?? ''}`} data-testid={props.testid}>
      {(props.title || props.actions) && (
        <header class="card-head">
          <h2>{props.title}</h2>
          {props.actions && <div class="card-actions">{props.actions}</div>}
        </header>
      )}
      <div class="card-body">{props.children}</div>
    </section>
  );
}

export type Tone = 'ok' | 'warn' | 'bad' | 'muted' | 'info';

export function Badge(props: { tone: Tone; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${props.tone}`} title={props.title}>
      {props.children}
    </span>
  );
}

export const HEALTH_TONE: Record<Health, Tone> = {
  healthy: 'ok',
  degraded: 'warn',
  failing: 'bad',
  idle: 'muted',
};

export function HealthDot(props: { health: Health }) {
  return (
    <span
      class={`dot dot-${HEALTH_TONE[props.health]}`}
      title={props.health}
      role="img"
      aria-label={props.health}
    />
  );
}

export const LEVEL_TONE: Record<MessageLevel, Tone> = { Error: 'bad', Warning: 'warn', Info: 'info' };

export function SyncBadge(props: { type: string; state: SyncState; nacked: boolean }) {
  const tone: Tone = props.nacked
    ? 'bad'
    : props.state === 'SYNCED'
      ? 'ok'
      : props.state === 'STALE'
        ? 'warn'
        : 'muted';
  return (
    <Badge
      tone={tone}
      title={`${props.type}: ${props.state}${props.nacked ? ' (last update rejected)' : ''}`}
    >
      {/* Synced is the normal case: the type name alone, in green, keeps rows short. */}
      {props.type}
      {props.nacked ? ' NACK' : props.state === 'SYNCED' ? '' : ` ${props.state}`}
    </Badge>
  );
}

export function Stat(props: { label: string; value: ComponentChildren; tone?: Tone; testid?: string }) {
  return (
    <div class={`stat ${props.tone ? `stat-${props.tone}` : ''}`} data-testid={props.testid}>
      <div class="stat-value">{props.value}</div>
      <div class="stat-label">{props.label}</div>
    </div>
  );
}

export function Loading() {
  return <div class="note">Loading…</div>;
}

export function ErrorNote(props: { error: Error }) {
  return (
    <div class="note note-bad" role="alert">
      {props.error.message}
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="note">{props.children}</div>;
}

/** Loading, then error or content; keeps the last content on screen while a refresh runs. */
export function Loaded<T>(props: {
  resource: { data: T | undefined; error: Error | undefined; loading: boolean };
  children: (data: T) => ComponentChildren;
}) {
  const { data, error } = props.resource;
  if (data !== undefined) {
    return (
      <>
        {error && <ErrorNote error={error} />}
        {props.children(data)}
      </>
    );
  }
  if (error) return <ErrorNote error={error} />;
  return <Loading />;
}
