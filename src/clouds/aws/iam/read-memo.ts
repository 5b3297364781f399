/**
 * What one session has read from IAM, kept until its next write: a run looks at the role and the
 * account's quotas from several steps (the settings in place, the plan, verify), and IAM is asked
 * once. Any write (or attempt) forgets everything read, so what follows a write is read afresh; the
 * re-checks an apply makes before each write never come from here. A read that fails is not kept.
 * Each caller gets its own copy, so one step's changes to a result never reach another's.
 */
export interface ReadMemo {
  read<T>(key: string, fetch: () => Promise<T>): Promise<T>;
  forget(): void;
}

export function readMemo(): ReadMemo {
  let kept = new Map<string, Promise<unknown>>();
  return {
    async read<T>(key: string, fetch: () => Promise<T>): Promise<T> {
      let pending = kept.get(key) as Promise<T> | undefined;
      if (!pending) {
        const into = kept;
        const p = fetch();
        into.set(key, p);
        p.catch(() => {
          if (into.get(key) === p) into.delete(key);
        });
        pending = p;
      }
      return structuredClone(await pending);
    },
    forget() {
      kept = new Map();
    },
  };
}
