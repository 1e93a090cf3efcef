declare module 'parse-prometheus-text-format' {
  /** Parses the Prometheus text format into prom2json-shaped objects; throws on a bad line. */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
