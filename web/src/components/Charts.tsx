// Simple accessible charts: one row per item with its label, an SVG bar and its value written out; the
// chart as a whole is an image named by its caption, and the same figures are a table one click away.
import { useId } from "react";
import { t } from "../i18n";
import { TableScroll } from "./Table";

export interface Bar {
  key: string;
  label: string;
  value: number; // 0..1 of the scale
  text: string; // the value as shown
  group?: string;
  strong?: boolean; // e.g. mastered, passed
}

export function BarChart({
  title,
  bars,
  columns,
  marker,
}: {
  title: string;
  bars: Bar[];
  columns: [string, string];
  /** A reference line on every bar (e.g. the pass mark), 0..1, with its legend. */
  marker?: { value: number; label: string };
}) {
  const id = useId();
  const groups = bars.some((b) => b.group);
  let group: string | undefined;
  return (
    <figure className="chart">
      <figcaption id={`${id}-title`} className="chart__title">
        {title}
      </figcaption>
      <div className="chart__rows" role="img" aria-labelledby={`${id}-title`}>
        {bars.map((bar) => {
          const heading = bar.group && bar.group !== group ? bar.group : null;
          group = bar.group;
          const width = Math.max(0, Math.min(1, bar.value)) * 100;
          return (
            <div key={bar.key} className="chart__item">
              {heading ? <p className="chart__group">{heading}</p> : null}
              <div className="chart__row">
                <span className="chart__label">{bar.label}</span>
                <svg className="chart__bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
                  <rect x={0} y={0} width={100} height={10} className="chart__track" />
                  <rect x={0} y={0} width={width} height={10} className={bar.strong ? "chart__fill chart__fill--strong" : "chart__fill"} />
                  {marker ? <rect x={marker.value * 100 - 0.4} y={0} width={0.8} height={10} className="chart__marker" /> : null}
                </svg>
                <span className="chart__value">{bar.text}</span>
              </div>
            </div>
          );
        })}
      </div>
      {marker ? <p className="chart__note">{marker.label}</p> : null}
      <details className="chart__table">
        <summary>{t("chart.showTable")}</summary>
        <TableScroll label={title}>
        <table className="table">
          <caption className="sr-only">{title}</caption>
          <thead>
            <tr>
              {groups ? <th scope="col">{t("chart.group")}</th> : null}
              <th scope="col">{columns[0]}</th>
              <th scope="col">{columns[1]}</th>
            </tr>
          </thead>
          <tbody>
            {bars.map((bar) => (
              <tr key={bar.key}>
                {groups ? <td>{bar.group}</td> : null}
                <th scope="row">{bar.label}</th>
                <td>{bar.text}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </TableScroll>
      </details>
    </figure>
  );
}
