/**
 * `Symbol.dispose`, so that `using ksm = await Ksm.create()` releases the engine at the end of the
 * block. Node 20 defines it (as Symbol.for('nodejs.dispose')); where a runtime does not, that same
 * registered symbol stands in, and the global Symbol is left as it is.
 */
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

export const DISPOSE: typeof Symbol.dispose = Symbol.dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);
