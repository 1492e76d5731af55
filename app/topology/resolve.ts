/**
 * Turning symbolic values into concrete ones. Each adapter supplies a `Resolver` saying what a
 * host, a port and a secret are in its world; `resolveValue` walks a value with it. The local
 * runner resolves to strings, the Pulumi program to `pulumi.Output<string>` (so secrets stay secret).
 */
import type { SecretName, Service, Topology, Value } from './model.js'

/** Containers listen on every interface of their own network namespace. */
export const CONTAINER_BIND_HOST = '0.0.0.0'
/** Local processes listen on loopback only. */
export const LOCAL_BIND_HOST = '127.0.0.1'

export interface Resolver<T> {
  literal(text: string): T
  host(service: string): T
  bindHost(): T
  port(service: string, port: string): T
  secret(name: SecretName, encode: 'uri' | undefined): T
  concat(parts: readonly T[]): T
}

export function resolveValue<T>(value: Value, resolver: Resolver<T>): T {
  const parts = value.map((part): T => {
    if (typeof part === 'string') return resolver.literal(part)
    if ('hostOf' in part) return resolver.host(part.hostOf)
    if ('bindHost' in part) return resolver.bindHost()
    if ('portOf' in part) return resolver.port(part.portOf, part.port)
    if ('secret' in part) return resolver.secret(part.secret, part.encode)
    const joined: T[] = []
    part.join.forEach((inner, i) => {
      if (i > 0) joined.push(resolver.literal(part.separator))
      joined.push(resolveValue(inner, resolver))
    })
    return resolver.concat(joined)
  })
  return parts.length === 1 ? parts[0]! : resolver.concat(parts)
}

export function resolveEnv<T>(service: Service, resolver: Resolver<T>): Record<string, T> {
  return Object.fromEntries(Object.entries(service.env).map(([name, value]) => [name, resolveValue(value, resolver)]))
}

/** A resolver to plain strings, from a host/port/secret lookup. */
export function stringResolver(lookup: {
  host(service: string): string
  port(service: string, port: string): number
  secret(name: SecretName): string
  bindHost?: string
}): Resolver<string> {
  return {
    literal: (text) => text,
    host: (service) => lookup.host(service),
    bindHost: () => lookup.bindHost ?? CONTAINER_BIND_HOST,
    port: (service, port) => String(lookup.port(service, port)),
    secret: (name, encode) => (encode === 'uri' ? encodeURIComponent(lookup.secret(name)) : lookup.secret(name)),
    concat: (parts) => parts.join(''),
  }
}

/** Container-network addressing: a service is reached by its name on its container port. */
export function containerAddress(topology: Topology): { host(service: string): string; port(service: string, port: string): number } {
  return {
    host: (service) => {
      if (!topology.services.some((s) => s.name === service)) throw new Error(`unknown service ${service}`)
      return service
    },
    port: (service, portName) => {
      const spec = topology.services.find((s) => s.name === service)?.ports.find((p) => p.name === portName)
      if (!spec) throw new Error(`unknown port ${service}.${portName}`)
      return spec.containerPort
    },
  }
}
