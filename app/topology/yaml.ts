/**
 * A small, deterministic YAML writer for the JSON-shaped documents we generate (Prometheus config
 * and rules, Grafana provisioning). Strings are double-quoted JSON strings (valid YAML), keys plain
 * when safe; multi-line strings become literal blocks so PromQL stays readable.
 */
type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json | undefined }

export function toYaml(value: Json, header?: string): string {
  const lines: string[] = header ? header.split('\n').map((line) => `# ${line}`.trimEnd()) : []
  emit(value, 0, lines)
  return lines.join('\n') + '\n'
}

function emit(value: Json, indent: number, lines: string[]): void {
  const pad = ' '.repeat(indent)
  if (Array.isArray(value)) {
    if (value.length === 0) {
      lines.push(`${pad}[]`)
      return
    }
    for (const item of value as readonly Json[]) {
      if (isCollection(item) && !isEmpty(item)) {
        const inner: string[] = []
        emit(item, indent + 2, inner)
        lines.push(`${pad}- ${inner[0]!.slice(indent + 2)}`, ...inner.slice(1))
      } else {
        lines.push(`${pad}- ${scalar(item, indent + 2)}`)
      }
    }
    return
  }
  if (isCollection(value)) {
    const entries = Object.entries(value as Record<string, Json | undefined>).filter(([, v]) => v !== undefined) as [string, Json][]
    if (entries.length === 0) {
      lines.push(`${pad}{}`)
      return
    }
    for (const [key, item] of entries) {
      if (isCollection(item) && !isEmpty(item)) {
        lines.push(`${pad}${formatKey(key)}:`)
        emit(item, Array.isArray(item) ? indent : indent + 2, lines)
      } else {
        lines.push(`${pad}${formatKey(key)}: ${scalar(item, indent + 2)}`)
      }
    }
    return
  }
  lines.push(`${pad}${scalar(value, indent)}`)
}

function isCollection(value: Json): value is readonly Json[] | { readonly [key: string]: Json | undefined } {
  return typeof value === 'object' && value !== null
}

function isEmpty(value: Json): boolean {
  if (Array.isArray(value)) return value.length === 0
  return isCollection(value) && Object.values(value).every((v) => v === undefined)
}

function scalar(value: Json, indent: number): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return '[]'
  if (typeof value === 'object') return '{}'
  if (typeof value === 'string') {
    if (value.includes('\n') && !/^\s/.test(value)) {
      const pad = ' '.repeat(indent)
      const chomp = value.endsWith('\n') ? '|' : '|-'
      return `${chomp}\n${value.replace(/\n$/, '').split('\n').map((line) => (line ? pad + line : '')).join('\n')}`
    }
    return JSON.stringify(value)
  }
  return String(value)
}

function formatKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.\-/]*$/.test(key) ? key : JSON.stringify(key)
}
