/** The first violations of an invariant, kept as evidence; the count is never capped. */
const EXAMPLES = 10;

/** A counter of one invariant's violations, with a few examples for the report. */
export class ViolationLog {
  readonly name: string;
  #count = 0;
  readonly #examples: string[] = [];

  constructor(name: string) {
    this.name = name;
  }

  get count(): number {
    return this.#count;
  }

  get examples(): readonly string[] {
    return this.#examples;
  }

  add(example: string, times = 1): void {
    this.#count += times;
    if (this.#examples.length < EXAMPLES) this.#examples.push(example);
  }
}
