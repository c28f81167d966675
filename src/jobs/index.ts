import { approvalActions } from '../approvals/actions.ts';
import { defaultChecks } from '../schedules/checks.ts';
import { approvalView } from '../slack/render/approval.ts';
import { auditHandler } from './audit.ts';
import { changeKinds } from './changes.ts';
import { clustersHandler } from './clusters.ts';
import { followUpActions } from './drift-followup.ts';
import { pingHandler } from './ping.ts';
import { repairDriftHandler } from './repair-drift.ts';
import { routeApplyHandler } from './route-apply.ts';
import { routeDiffHandler } from './route-diff.ts';
import { routeListHandler } from './route-list.ts';
import { routeRollbackHandler } from './route-rollback.ts';
import { routeShowHandler } from './route-show.ts';
import { routeVerifyActions } from './route-verify.ts';
import { createScheduleHandler } from './schedule.ts';
import {
  createScheduleRunHandler,
  scheduleListHandler,
  schedulePauseHandler,
  scheduleResumeHandler,
} from './schedule-commands.ts';
import { statusHandler } from './status.ts';
import type { Handlers } from './types.ts';
import { vpnHandler } from './vpn.ts';

/** The one place a command kind, button action or schedule meets the code that runs it. */
export function defaultHandlers(): Handlers {
  return {
    commands: {
      clusters: clustersHandler,
      status: statusHandler,
      vpn: vpnHandler,
      ping: pingHandler,
      'schedule-list': scheduleListHandler,
      'schedule-run': createScheduleRunHandler(defaultChecks),
      'schedule-pause': schedulePauseHandler,
      'schedule-resume': scheduleResumeHandler,
      'route-list': routeListHandler,
      'route-show': routeShowHandler,
      'route-diff': routeDiffHandler,
      'route-apply': routeApplyHandler,
      'route-rollback': routeRollbackHandler,
      audit: auditHandler,
      'repair-drift': repairDriftHandler,
    },
    // Approve, Reject and expiry for every change kind that goes through approval.
    actions: {
      ...approvalActions(changeKinds, approvalView),
      // After an approved drift repair: verify it, offer the restart, or re-plan a stale plan.
      ...followUpActions,
      // After an applied routing change: the verification window's readings.
      ...routeVerifyActions,
    },
    schedule: createScheduleHandler(defaultChecks),
  };
}
