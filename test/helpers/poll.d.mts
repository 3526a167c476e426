/** See poll.mjs. */
export declare function poll<T>(what: string | (() => string), check: () => T | Promise<T>, timeoutMs: number, everyMs?: number): Promise<NonNullable<T>>;
