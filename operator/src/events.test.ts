import { describe, expect, it } from "vitest";
import { EventSeries, eventSeriesWindowMs } from "./events.ts";

describe("EventSeries", () => {
  it("counts a repeat within the window on the earlier Event, and starts anew after it", () => {
    const series = new EventSeries();
    expect(series.repeatOf("a", 0)).toBeUndefined();
    series.created("a", "orders.1", 0);
    expect(series.repeatOf("a", 1_000)).toMatchObject({ name: "orders.1", count: 2 });
    expect(series.repeatOf("a", 2_000)).toMatchObject({ name: "orders.1", count: 3 });
    // The window counts from the last repeat.
    expect(series.repeatOf("a", 2_000 + eventSeriesWindowMs)).toMatchObject({ count: 4 });
    expect(series.repeatOf("a", 2_001 + 2 * eventSeriesWindowMs)).toBeUndefined();
    expect(series.repeatOf("b", 0)).toBeUndefined();
  });

  it("forgets a series whose Event is gone", () => {
    const series = new EventSeries();
    series.created("a", "orders.1", 0);
    series.forget("a");
    expect(series.repeatOf("a", 1)).toBeUndefined();
  });
});
