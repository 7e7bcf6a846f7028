import type { Activity } from './activities';
import { KNOWN_SCOPES } from './scopes';

type Scope = (typeof KNOWN_SCOPES)[number];

/**
 * What each scope means to the person granting it, in plain words: a short title and what it lets
 * the app see or do. `sensitive` scopes (direct messages) are called out on the consent page. Pure.
 */
export interface ScopeDescription {
  title: string;
  exposes: string;
  sensitive: boolean;
}

export const SCOPE_DESCRIPTIONS: Record<Scope, ScopeDescription> = {
  'tweet.read': {
    title: 'See your posts',
    exposes: 'Posts you write, posts that reply to or mention you, and when you delete a post, as they happen.',
    sensitive: false,
  },
  'users.read': {
    title: 'See your profile',
    exposes: 'Your name, @handle and public profile, and the same for the accounts you interact with.',
    sensitive: false,
  },
  'follows.read': {
    title: 'See who you follow',
    exposes: 'When you follow or unfollow an account, and when someone follows you.',
    sensitive: false,
  },
  'like.read': { title: 'See your likes', exposes: 'The posts you like, and likes on your posts.', sensitive: false },
  'block.read': { title: 'See who you block', exposes: 'The accounts you block and unblock.', sensitive: false },
  'mute.read': { title: 'See who you mute', exposes: 'The accounts you mute and unmute.', sensitive: false },
  'dm.read': {
    title: 'Read your direct messages',
    exposes: 'Every direct message you send or receive, with whom, when you are typing and when you read them.',
    sensitive: true,
  },
  'dm.write': { title: 'Send direct messages as you', exposes: 'Messages in your name to people you talk to.', sensitive: true },
  'offline.access': {
    title: 'Stay connected',
    exposes: 'Keeps access while you are not using the app, until you revoke it.',
    sensitive: false,
  },
  'broadcast.read': {
    title: 'See chat in your broadcasts',
    exposes: 'Chat messages people write in the live broadcasts you host.',
    sensitive: false,
  },
  'space.read': { title: 'See Spaces', exposes: 'Spaces you host or join.', sensitive: false },
  'list.read': { title: 'See your lists', exposes: 'Lists you own, follow or are on.', sensitive: false },
  'bookmark.read': { title: 'See your bookmarks', exposes: 'The posts you bookmarked.', sensitive: false },
  'tweet.write': { title: 'Post as you', exposes: 'New posts, replies and reposts in your name, and deleting them.', sensitive: false },
  'tweet.moderate.write': { title: 'Hide replies', exposes: 'Hiding and unhiding replies to your posts.', sensitive: false },
  'follows.write': { title: 'Follow accounts for you', exposes: 'Following and unfollowing accounts in your name.', sensitive: false },
  'like.write': { title: 'Like posts for you', exposes: 'Liking and unliking posts in your name.', sensitive: false },
  'block.write': { title: 'Block accounts for you', exposes: 'Blocking and unblocking accounts in your name.', sensitive: false },
  'mute.write': { title: 'Mute accounts for you', exposes: 'Muting and unmuting accounts in your name.', sensitive: false },
  'list.write': { title: 'Manage your lists', exposes: 'Creating, changing and deleting your lists.', sensitive: false },
  'bookmark.write': { title: 'Manage your bookmarks', exposes: 'Adding and removing bookmarks.', sensitive: false },
  'media.write': { title: 'Upload media', exposes: 'Uploading images and videos in your name.', sensitive: false },
};

/** Scopes in the order a person should read them: what exposes private messages first, then reading, then acting. */
export function orderedForReading(scopes: readonly string[]): Scope[] {
  const known = scopes.filter((s): s is Scope => (KNOWN_SCOPES as readonly string[]).includes(s));
  const rank = (s: Scope) => (SCOPE_DESCRIPTIONS[s].sensitive ? 0 : s === 'offline.access' ? 3 : s.endsWith('.write') ? 2 : 1);
  return [...new Set(known)].sort((a, b) => rank(a) - rank(b) || KNOWN_SCOPES.indexOf(a) - KNOWN_SCOPES.indexOf(b));
}

/** The kinds of event the ledger counts, as a person would name them. */
export const EVENT_TYPE_LABELS: Record<Activity['type'] | 'user_event', { label: string; directMessages: boolean }> = {
  tweet_create: { label: 'Posts', directMessages: false },
  tweet_delete: { label: 'Deleted posts', directMessages: false },
  favorite: { label: 'Likes', directMessages: false },
  follow: { label: 'Follows', directMessages: false },
  unfollow: { label: 'Unfollows', directMessages: false },
  block: { label: 'Blocks', directMessages: false },
  unblock: { label: 'Unblocks', directMessages: false },
  mute: { label: 'Mutes', directMessages: false },
  unmute: { label: 'Unmutes', directMessages: false },
  direct_message: { label: 'Direct messages', directMessages: true },
  dm_typing: { label: 'Typing in direct messages', directMessages: true },
  dm_read: { label: 'Read receipts in direct messages', directMessages: true },
  profile_update: { label: 'Profile changes', directMessages: false },
  space_start: { label: 'Spaces started', directMessages: false },
  space_end: { label: 'Spaces ended', directMessages: false },
  broadcast_start: { label: 'Broadcasts started', directMessages: false },
  broadcast_end: { label: 'Broadcasts ended', directMessages: false },
  broadcast_chat: { label: 'Chat in your broadcasts', directMessages: false },
  chat_message: { label: 'Encrypted chat messages', directMessages: true },
  chat_join: { label: 'Joining encrypted chats', directMessages: true },
  user_event: { label: 'Notices that you revoked access', directMessages: false },
};

/**
 * X Activity API deliveries are counted by their XAA event type (`dm.sent`, `post.mention.create`):
 * named by family, and direct messages and encrypted chat called out like their Account Activity twins.
 */
const XAA_FAMILY_LABELS: Record<string, { label: string; directMessages: boolean }> = {
  post: { label: 'Posts (X Activity API)', directMessages: false },
  like: { label: 'Likes (X Activity API)', directMessages: false },
  follow: { label: 'Follows (X Activity API)', directMessages: false },
  block: { label: 'Blocks (X Activity API)', directMessages: false },
  mute: { label: 'Mutes (X Activity API)', directMessages: false },
  dm: { label: 'Direct messages (X Activity API)', directMessages: true },
  chat: { label: 'Encrypted chat (X Activity API)', directMessages: true },
  profile: { label: 'Profile changes (X Activity API)', directMessages: false },
  spaces: { label: 'Spaces (X Activity API)', directMessages: false },
  broadcast: { label: 'Broadcasts (X Activity API)', directMessages: false },
  oauth: { label: 'Notices that you revoked access', directMessages: false },
};

export const eventTypeLabel = (type: string) =>
  EVENT_TYPE_LABELS[type as keyof typeof EVENT_TYPE_LABELS] ??
  XAA_FAMILY_LABELS[type.split('.')[0]] ?? { label: type.replace(/_/g, ' '), directMessages: false };
