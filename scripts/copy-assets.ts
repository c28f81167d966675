import { cpSync } from 'node:fs';
import { relative, sep } from 'node:path';

/**
 * The second half of `npm run build`: copies the data files the compiled product reads (presets, CRD schemas)
 * beside it. The simulation, the console and the demo are development tools: none of their code or data goes
 * into the runtime image, which carries dist/ and production dependencies only.
 */
export const NOT_SHIPPED = ['sim', 'console', 'demo'];

const outDir = process.argv[2] ?? 'dist';
cpSync('src', outDir, {
  recursive: true,
  filter: (path) => {
    const top = relative('src', path).split(sep)[0];
    return !path.endsWith('.ts') && !NOT_SHIPPED.includes(top ?? '');
  },
});
