// One check of the reliability suite: printed as one line, counted in "N passed, N failed".

/** The outcome of one reliability check. */
export interface Check {
  /** What was checked, e.g. `express: load: zero 5xx`. */
  name: string;
  passed: boolean;
  /** Figures or the failing case (shrunk), one line. */
  detail: string;
}

/** Builds a check from a condition and its detail. */
export function check(name: string, passed: boolean, detail = ''): Check {
  return { name, passed, detail };
}
