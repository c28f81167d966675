import type { Workspace } from '../console/workspace.ts';

/** The people and channels of the demo; the config below gives each person the role shown here. */
export const DEMO_USERS = {
  alice: { id: 'U0ALICE', name: 'alice', role: 'operator' },
  bob: { id: 'U0BOB', name: 'bob', role: 'approver' },
  carol: { id: 'U0CAROL', name: 'carol', role: 'viewer' },
} as const;

export const DEMO_CHANNELS = {
  ops: { id: 'C0MESHOPS', name: 'mesh-ops' },
  health: { id: 'C0MESHHEALTH', name: 'mesh-health' },
} as const;

export const DEMO_WORKSPACE: Workspace = {
  name: 'meshops demo',
  users: Object.values(DEMO_USERS),
  channels: Object.values(DEMO_CHANNELS),
  commands: ['/mesh'],
  bot: { id: 'U0MESHBOT', name: 'meshops' },
};
