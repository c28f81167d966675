/** One Deployment of a rolling restart, as the progress message shows it. */
export interface RolloutStep {
  deployment: string;
  state: 'waiting' | 'rolling' | 'ready' | 'not-ready' | 'failed' | 'skipped';
  detail?: string;
}
