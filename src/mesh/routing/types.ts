/**
 * The parts of an Istio VirtualService meshops reads. Specs are validated against the CRD schema before
 * they are typed as these, so the shapes hold; fields meshops does not interpret stay in the object as is.
 */

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface HttpMatch {
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  withoutHeaders?: Record<string, StringMatch>;
  queryParams?: Record<string, StringMatch>;
  port?: number;
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  gateways?: string[];
}

export interface Destination {
  host: string;
  subset?: string;
  port?: { number?: number };
}

export interface RouteDestination {
  destination: Destination;
  weight?: number;
}

export interface HttpRoute {
  name?: string;
  match?: HttpMatch[];
  route?: RouteDestination[];
  redirect?: { uri?: string; authority?: string };
  directResponse?: { status?: number };
  delegate?: { name?: string; namespace?: string };
  rewrite?: { uri?: string; authority?: string };
  timeout?: string;
  retries?: { attempts?: number };
  fault?: {
    delay?: { fixedDelay?: string; percentage?: { value?: number }; percent?: number };
    abort?: { httpStatus?: number; percentage?: { value?: number }; percent?: number };
  };
  mirror?: Destination;
  [field: string]: unknown;
}

export interface L4Route {
  match?: { port?: number; sniHosts?: string[]; destinationSubnets?: string[] }[];
  route?: RouteDestination[];
}

export interface VirtualServiceSpec {
  hosts?: string[];
  gateways?: string[];
  exportTo?: string[];
  http?: HttpRoute[];
  tcp?: L4Route[];
  tls?: L4Route[];
  [field: string]: unknown;
}

/** A VirtualService a preset wants, by name and namespace. */
export interface VsRef {
  namespace: string;
  name: string;
}

export const refText = (ref: VsRef) => `${ref.namespace}/${ref.name}`;
