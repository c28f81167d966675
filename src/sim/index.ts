// The simulated hybrid mesh: Kubernetes API servers on loopback that tests and the demo run
// against. See README.md in this folder.

export { type PodTarget, SimCluster } from './cluster/sim-cluster.ts';
export type { PodAddress, PodChange, SimFaults } from './faults.ts';
export { type SimClusterHandle, type SimMesh, type SimMeshOptions, startSimMesh } from './mesh.ts';
export type { LinkQuality, TunnelState } from './net/network.ts';
export { generateScenario } from './scenario/generate.ts';
export { loadScenario, type ScenarioSource } from './scenario/load.ts';
export type { Scenario, ScenarioInput } from './scenario/schema.ts';
export { shippedRbac } from './server/auth.ts';
export type { TrafficFault } from './traffic/metrics.ts';
