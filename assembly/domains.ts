// Sharing domains: each domain has its own stable and unstable tree, so pages of spaces in
// different domains never meet in a descent and never share a KSM frame. One cursor and one batch
// budget walk every space in slot order, whatever its domain (as merge_across_nodes=0 keeps one
// pair of trees per NUMA node under one ksmd).
import { DOMAINS_LOCATION, DOMAIN_SIZE, D_STABLE_ROOT, D_UNSTABLE_ROOT, MAX_DOMAINS, S_DOMAIN } from './layout';
import { spaceField, startPassEntries } from './spaces';

/** The address of domain `domain`'s stable tree root (a u32 holding the root record, or 0). */
@inline export function stableRootOf(domain: u32): u32 { return DOMAINS_LOCATION + domain * DOMAIN_SIZE + D_STABLE_ROOT; }
/** The address of domain `domain`'s unstable tree root. */
@inline export function unstableRootOf(domain: u32): u32 { return DOMAINS_LOCATION + domain * DOMAIN_SIZE + D_UNSTABLE_ROOT; }
/** The sharing domain of a space. */
@inline export function spaceDomain(space: u32): u32 { return spaceField(space, S_DOMAIN); }

/** Empties every domain's unstable tree (the start of a full pass). */
export function resetUnstableTrees(): void {
  for (let d: u32 = 0; d < MAX_DOMAINS; d++) store<u32>(unstableRootOf(d), 0);
  startPassEntries();
}
