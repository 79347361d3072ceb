/**
 * `ksm-wasm replay SCRIPT.json`: registered on the CLI by src/cli.ts.
 * (Being written: the replay issue owns this file.)
 */
import type { Sade } from 'sade';

export function registerReplay(prog: Sade): void {
  prog
    .command('replay <script>')
    .describe('Replay a script of writes, forks, exits and unmerges through the engine (kernel oracle format)')
    .action(() => {
      console.error('ksm-wasm replay: not available in this build yet');
      process.exit(2);
    });
}
