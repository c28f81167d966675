import { stringify } from 'yaml';
import { DEMO_CHANNELS, DEMO_USERS } from './workspace.ts';

export interface DemoCluster {
  name: string;
  role: 'primary' | 'remote';
  /** Relative to the config file's folder. */
  kubeconfig: string;
  podCidr: string;
  serviceCidr: string;
  /** A remote's secret on the primary, when meshops would not guess its name. */
  remoteSecret?: string;
}

/**
 * The meshops config the demo runs with, written beside the kubeconfigs so a visitor can read the real thing:
 * alice requests, bob approves, carol only looks, and health goes to #mesh-health every minute.
 */
export function demoConfigYaml(clusters: readonly DemoCluster[]): string {
  const config = {
    clusters: clusters.map((c) => ({
      name: c.name,
      role: c.role,
      kubeconfig: c.kubeconfig,
      podCidrs: [c.podCidr],
      serviceCidrs: [c.serviceCidr],
      ...(c.remoteSecret ? { remoteSecret: c.remoteSecret } : {}),
    })),
    istio: { profile: 'istio-1.0', namespace: 'istio-system' },
    routing: {
      // Shorter than production (5m / 30s), so a visitor sees a whole window, chart and all, in two minutes.
      verify: { window: '2m', interval: '10s' },
    },
    access: {
      operators: [DEMO_USERS.alice.id],
      approvers: [DEMO_USERS.bob.id],
      viewers: [DEMO_USERS.carol.id],
      approvalTtl: '30m',
    },
    schedules: [
      {
        name: 'health',
        cron: '* * * * *',
        timezone: 'UTC',
        channel: DEMO_CHANNELS.health.id,
        checks: ['status', 'vpn'],
        // A post every minute, so a visitor sees the schedule work without waiting for a state change.
        mode: 'every-run',
      },
    ],
  };
  return `# Written by \`npm run demo\` for the simulated clusters; rewritten on every start.\n${stringify(config)}`;
}
