/** OAuth 2.0 scopes a user can grant an app (X's names). Unknown scopes are rejected at grant time. */
export const KNOWN_SCOPES = [
  'tweet.read',
  'tweet.write',
  'tweet.moderate.write',
  'users.read',
  'follows.read',
  'follows.write',
  'offline.access',
  'space.read',
  'broadcast.read',
  'mute.read',
  'mute.write',
  'like.read',
  'like.write',
  'list.read',
  'list.write',
  'block.read',
  'block.write',
  'bookmark.read',
  'bookmark.write',
  'dm.read',
  'dm.write',
  'media.write',
] as const;

/** Scopes are stored and returned as one space-separated string (OAuth's `scope`), sorted and unique. */
export const formatScopes = (scopes: readonly string[]): string => [...new Set(scopes)].sort().join(' ');
