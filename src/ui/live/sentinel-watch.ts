/**
 * The end of a paged list: calls `onVisible` whenever the sentinel element last given
 * to `watch` comes into view (scrolled to, in the page or in a scrolling box).
 */
export class SentinelWatch {
  private observer: IntersectionObserver | null = null;
  private observed: Element | null = null;

  constructor(private readonly onVisible: () => void) {}

  /** Watches `el` instead (null: nothing); the same element again changes nothing. */
  watch(el: Element | null): void {
    if (el === this.observed) return;
    this.observer ??= typeof IntersectionObserver === 'undefined' ? null : new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.onVisible();
    });
    this.observer?.disconnect();
    this.observed = el;
    if (el !== null) this.observer?.observe(el);
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = null;
    this.observed = null;
  }
}
