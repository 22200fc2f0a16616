/**
 * Whether a container runtime answers here. The LocalStack suite needs one; on machines without a
 * Docker engine (this project's CI) the suite is skipped with one printed line saying why and how to
 * run it, and it reports no pass it did not run.
 */
import { spawnSync } from 'node:child_process';

export interface ContainerRuntimeProbe {
  available: boolean;
  /** Why not, in one line (empty when available). */
  reason: string;
}

export function probeContainerRuntime(): ContainerRuntimeProbe {
  const result = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 15_000 });
  if (result.error) return { available: false, reason: `docker not runnable (${result.error.message})` };
  if (result.status !== 0) {
    const detail = (result.stderr || result.stdout).trim().split('\n').find((line) => line.trim() !== '') ?? `exit ${result.status}`;
    return { available: false, reason: `\`docker info\` failed: ${detail}` };
  }
  return { available: true, reason: '' };
}
