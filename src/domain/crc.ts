import { hmacSha256Base64 } from './crypto';

/**
 * The CRC challenge (docs/delivery.md, "CRC"): what we send and what a correct webhook must answer, plus the
 * rules that turn one check's result into the webhook's validity.
 */
export const crcResponseToken = async (consumerSecret: string, crcToken: string) =>
  `sha256=${await hmacSha256Base64(consumerSecret, crcToken)}`;

export const crcRequestSignature = async (consumerSecret: string, crcToken: string, nonce: string) =>
  `sha256=${await hmacSha256Base64(consumerSecret, `crc_token=${crcToken}&nonce=${nonce}`)}`;

/** What a CRC needs on the wire, prepared by the app's object (which alone holds the secret). */
export interface CrcChallenge {
  crcToken: string;
  nonce: string;
  signature: string;
  /** The current secret's answer first; during a rotation's grace window, the previous secret's too. */
  expectedResponseTokens: string[];
}

/** One check's result; `reason` names the URL, the cause and the likely fix (crc-failures.ts). */
export type CrcOutcome =
  | { kind: 'ok' }
  /** The webhook answered, wrongly: it becomes invalid at once. */
  | { kind: 'hard'; reason: string }
  /** The webhook could not answer (4xx, 5xx, timeout, network): invalid only after a long failing streak. */
  | { kind: 'transient'; reason: string };

interface WebhookValidity {
  valid: boolean;
  lastCrcSuccessAt: number | null;
}

/**
 * The webhook's validity after one scheduled CRC. A success validates; a hard failure invalidates at
 * once; a transient one invalidates only when the last success is older than `invalidAfterMs`.
 */
export function validityAfterCrc(
  current: WebhookValidity & { createdAt: number },
  outcome: CrcOutcome,
  now: number,
  invalidAfterMs: number,
): WebhookValidity {
  if (outcome.kind === 'ok') return { valid: true, lastCrcSuccessAt: now };
  if (outcome.kind === 'hard') return { valid: false, lastCrcSuccessAt: current.lastCrcSuccessAt };
  const lastGood = current.lastCrcSuccessAt ?? current.createdAt;
  return { valid: current.valid && now - lastGood < invalidAfterMs, lastCrcSuccessAt: current.lastCrcSuccessAt };
}
