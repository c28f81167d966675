import { clustersHandler } from './clusters.ts';
import type { Handlers } from './types.ts';

/** The one place a command kind, button action or schedule meets the code that runs it. */
export function defaultHandlers(): Handlers {
  return {
    commands: {
      clusters: clustersHandler,
    },
    actions: {},
  };
}
