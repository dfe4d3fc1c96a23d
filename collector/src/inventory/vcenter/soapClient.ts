// A minimal vSphere Web Services (SOAP, urn:vim25) client over fetch: just what the dvSwitch inventory needs.
// RetrieveServiceContent, Login/Logout on the SessionManager (session cookie vmware_soap_session),
// CreateContainerView/DestroyView, RetrievePropertiesEx/ContinueRetrievePropertiesEx and FetchDVPorts.
// Responses are parsed with fast-xml-parser into "loose" values (see Loose below) that the inventory builder reads
// the same way as govc's JSON. Errors name the endpoint, the method, the HTTP status or the SOAP fault; they never
// carry the password (every message is redacted against it) nor the URL's user info.
import { Agent, fetch as undiciFetch } from 'undici';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * A vSphere data value in a shape shared by the SOAP (XML) and govc (JSON) paths: objects with lower-camel-case
 * keys (as in the WSDL), arrays, strings, numbers, booleans. `_typeName` carries xsi:type when known; a managed
 * object reference is `{ _typeName: 'ManagedObjectReference', type, value }`. From XML every leaf is a string and
 * every child element an array (XML does not say which fields repeat); readers use the helpers in
 * vcenterInventory.ts, which accept both forms.
 */
export type Loose = string | number | boolean | null | LooseObject | Loose[];
export interface LooseObject {
  [key: string]: Loose | undefined;
}

export interface MoRef {
  type: string;
  value: string;
}

export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  apiVersion: string;
  fullName: string;
}

export interface ObjectContent {
  obj: MoRef;
  props: Map<string, Loose>;
  /** Properties the server could not return (path → fault type), e.g. for lack of privileges. */
  missing: Array<{ path: string; fault: string }>;
}

export interface PropertySpec {
  type: string;
  pathSet: string[];
}

export interface SoapClientOptions {
  /** https://vcenter.example.com, https://vcenter.example.com/sdk or a bare host name (https assumed). */
  url: string;
  /** Accept any server certificate (self-signed vCenter). */
  insecure?: boolean;
  signal?: AbortSignal;
  /** Per request; default 120 s. */
  timeoutMs?: number;
}

/** A failure talking to vCenter: transport, HTTP status, unparsable response or SOAP fault. */
export class VsphereError extends Error {
  override name = 'VsphereError';
  constructor(
    message: string,
    readonly method: string,
    readonly httpStatus?: number,
    /** vim fault type (InvalidLogin, NotAuthenticated, ...) for SOAP faults. */
    readonly faultType?: string,
  ) {
    super(message);
  }
}

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const SESSION_COOKIE = 'vmware_soap_session';
/** The SOAPAction version for RetrieveServiceContent; later calls use the server's about.apiVersion. */
const INITIAL_VERSION = '6.0';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** `<name type="T">value</name>` */
export function moRefXml(name: string, ref: MoRef): string {
  return `<${name} type="${escapeXml(ref.type)}">${escapeXml(ref.value)}</${name}>`;
}

/** The SDK endpoint for a configured vCenter URL, without user info. */
export function sdkEndpoint(raw: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new VsphereError(`invalid vCenter URL ${JSON.stringify(stripUserInfo(raw))}`, 'connect');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new VsphereError(`vCenter URL must be http(s), not ${u.protocol}`, 'connect');
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/sdk';
  return u;
}

/** A URL as it may appear in logs and messages: no user info, no query. */
export function displayUrl(raw: string): string {
  try {
    return sdkEndpoint(raw).toString();
  } catch {
    return stripUserInfo(raw);
  }
}

function stripUserInfo(raw: string): string {
  return raw.replace(/\/\/[^/@]*@/, '//');
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  removeNSPrefix: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  isArray: (_name: string, _jpath: unknown, _isLeaf: boolean, isAttribute: boolean) => !isAttribute,
});

type XNode = Record<string, unknown>;

function localName(tag: string): string {
  const i = tag.indexOf(':');
  return i < 0 ? tag : tag.slice(i + 1);
}

/** Children of a parsed element by local name (prefixes dropped). */
function xChildren(node: unknown, name: string): unknown[] {
  if (!node || typeof node !== 'object') return [];
  const out: unknown[] = [];
  for (const [k, v] of Object.entries(node as XNode)) {
    if (k.startsWith('@_') || k === '#text') continue;
    if (localName(k) === name) out.push(...(Array.isArray(v) ? v : [v]));
  }
  return out;
}

function xText(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node !== 'object') return String(node);
  const t = (node as XNode)['#text'];
  return t === undefined ? '' : String(t);
}

/** Converts a parsed XML element into a Loose value (see Loose). */
export function xmlToLoose(node: unknown): Loose {
  if (node === undefined || node === null) return '';
  if (typeof node !== 'object') return String(node);
  const n = node as XNode;
  let xsiType: string | undefined;
  let refType: string | undefined;
  let hasChildren = false;
  for (const k of Object.keys(n)) {
    if (k === '@_type') refType = String(n[k]);
    else if (k.startsWith('@_') && k.endsWith(':type')) xsiType = localName(String(n[k]));
    else if (!k.startsWith('@_') && k !== '#text') hasChildren = true;
  }
  if (refType !== undefined && !hasChildren) return { _typeName: 'ManagedObjectReference', type: refType, value: xText(n) };
  if (!hasChildren) {
    const text = xText(n);
    // An empty element with a complex xsi:type is an object whose fields are all unset.
    return xsiType && !xsiType.startsWith('xsd:') && /^[A-Z]/.test(xsiType) && text === '' ? { _typeName: xsiType } : text;
  }
  const out: LooseObject = {};
  if (xsiType) out._typeName = xsiType;
  for (const [k, v] of Object.entries(n)) {
    if (k.startsWith('@_') || k === '#text') continue;
    const name = localName(k);
    const items = (Array.isArray(v) ? v : [v]).map(xmlToLoose);
    const prev = out[name];
    out[name] = Array.isArray(prev) ? [...prev, ...items] : items;
  }
  return out;
}

function looseToRef(v: Loose | undefined): MoRef | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  if (!x || typeof x !== 'object' || Array.isArray(x)) return undefined;
  const type = x.type;
  const value = x.value;
  if (typeof type !== 'string' || typeof value !== 'string') return undefined;
  return { type, value };
}

function causeText(e: unknown): string {
  const err = e as { message?: string; code?: string; cause?: unknown };
  const cause = err?.cause as { message?: string; code?: string } | undefined;
  if (cause && (cause.code || cause.message)) {
    const code = cause.code ?? '';
    const msg = cause.message ?? '';
    return msg.includes(code) ? msg : `${code}${code && msg ? ': ' : ''}${msg}`;
  }
  return err?.message ?? String(e);
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export class VsphereSoapClient {
  /** The SDK endpoint, without credentials: safe to log. */
  readonly endpoint: string;
  private readonly url: URL;
  private readonly dispatcher?: Agent;
  private readonly timeoutMs: number;
  private readonly signal?: AbortSignal;
  private cookie: string | undefined;
  private version = INITIAL_VERSION;
  private secrets: string[] = [];
  private content: ServiceContent | undefined;

  constructor(opts: SoapClientOptions) {
    this.url = sdkEndpoint(opts.url);
    this.endpoint = this.url.toString();
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.signal = opts.signal;
    if (opts.insecure) this.dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  }

  get serviceContent(): ServiceContent | undefined {
    return this.content;
  }

  /** Removes every copy of the secrets (raw and XML-escaped) from a message. */
  redact(message: string): string {
    let m = message;
    for (const s of this.secrets) {
      if (!s) continue;
      for (const form of new Set([s, escapeXml(s), encodeURIComponent(s)])) m = m.split(form).join('***');
    }
    return m;
  }

  private fail(method: string, message: string, httpStatus?: number, faultType?: string): VsphereError {
    return new VsphereError(this.redact(`vCenter ${this.endpoint}: ${method}: ${message}`), method, httpStatus, faultType);
  }

  /**
   * Sends one vim25 method and returns the parsed `<MethodResponse>` element. `body` is the XML inside the method
   * element (the caller escapes values).
   */
  async call(method: string, body: string): Promise<XNode> {
    const envelope =
      '<?xml version="1.0" encoding="UTF-8"?>' +
      `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
      `<soapenv:Body><${method} xmlns="urn:vim25">${body}</${method}></soapenv:Body></soapenv:Envelope>`;
    const headers: Record<string, string> = {
      'content-type': 'text/xml; charset=utf-8',
      soapaction: `urn:vim25/${this.version}`,
      accept: 'text/xml, application/soap+xml',
    };
    if (this.cookie) headers.cookie = this.cookie;
    const signals = [AbortSignal.timeout(this.timeoutMs)];
    if (this.signal) signals.push(this.signal);
    const signal = AbortSignal.any(signals);

    let status: number;
    let text: string;
    let contentType: string;
    try {
      const res = await undiciFetch(this.url, { method: 'POST', headers, body: envelope, signal, dispatcher: this.dispatcher, redirect: 'manual' });
      status = res.status;
      contentType = res.headers.get('content-type') ?? '';
      for (const c of res.headers.getSetCookie()) {
        const pair = c.split(';')[0]!.trim();
        if (pair.startsWith(`${SESSION_COOKIE}=`)) this.cookie = pair;
      }
      text = await res.text();
    } catch (e) {
      if (this.signal?.aborted) throw this.fail(method, 'aborted');
      if (signal.aborted) throw this.fail(method, `no answer within ${this.timeoutMs >= 1000 ? `${Math.round(this.timeoutMs / 1000)} s` : `${this.timeoutMs} ms`}`);
      const cause = causeText(e);
      const code = ((e as { cause?: { code?: string } }).cause?.code) ?? '';
      const hint = TLS_CODES.has(code) ? ' (the certificate is not trusted: set insecure: true for a self-signed vCenter certificate)' : '';
      throw this.fail(method, `cannot connect: ${cause}${hint}`);
    }

    const snippet = (): string => {
      const s = text.replace(/\s+/g, ' ').trim().slice(0, 200);
      return s ? ` (${contentType || 'no content type'}: ${JSON.stringify(s)})` : ' (empty body)';
    };
    if (status !== 200 && status !== 500) throw this.fail(method, `HTTP ${status}${snippet()}`, status);
    const valid = XMLValidator.validate(text);
    if (valid !== true) {
      throw this.fail(method, `HTTP ${status} with a malformed XML response: ${valid.err.msg} at line ${valid.err.line}${snippet()}`, status);
    }
    let doc: XNode;
    try {
      doc = parser.parse(text) as XNode;
    } catch (e) {
      throw this.fail(method, `HTTP ${status} with an unparsable XML response: ${(e as Error).message}`, status);
    }
    const env = xChildren(doc, 'Envelope')[0];
    const bodyNode = xChildren(env, 'Body')[0];
    if (!env || bodyNode === undefined) throw this.fail(method, `HTTP ${status}: not a SOAP envelope${snippet()}`, status);
    const fault = xChildren(bodyNode, 'Fault')[0];
    if (fault !== undefined) {
      const faultString = xText(xChildren(fault, 'faultstring')[0]) || xText(xChildren(fault, 'faultcode')[0]) || 'unknown fault';
      const detail = xChildren(fault, 'detail')[0];
      let faultType: string | undefined;
      if (detail && typeof detail === 'object') {
        for (const [k, v] of Object.entries(detail as XNode)) {
          if (k.startsWith('@_') || k === '#text') continue;
          const el = (Array.isArray(v) ? v[0] : v) as XNode | undefined;
          const xsi = el && typeof el === 'object' ? Object.entries(el).find(([a]) => a.startsWith('@_') && a.endsWith(':type'))?.[1] : undefined;
          faultType = xsi ? localName(String(xsi)) : localName(k).replace(/Fault$/, '');
          break;
        }
      }
      throw this.fail(method, `SOAP fault${faultType ? ` ${faultType}` : ''}: ${faultString}`, status, faultType);
    }
    if (status !== 200) throw this.fail(method, `HTTP ${status} without a SOAP fault${snippet()}`, status);
    const response = xChildren(bodyNode, `${method}Response`)[0];
    if (response === undefined) throw this.fail(method, `the SOAP body has no ${method}Response${snippet()}`, status);
    return (typeof response === 'object' ? response : {}) as XNode;
  }

  async retrieveServiceContent(): Promise<ServiceContent> {
    const res = await this.call('RetrieveServiceContent', moRefXml('_this', { type: 'ServiceInstance', value: 'ServiceInstance' }));
    const rv = xmlToLoose(xChildren(res, 'returnval')[0]);
    const obj = (rv && typeof rv === 'object' && !Array.isArray(rv) ? rv : {}) as LooseObject;
    const need = (name: string): MoRef => {
      const r = looseToRef(obj[name]);
      if (!r) throw this.fail('RetrieveServiceContent', `the service content has no ${name}: is this a vCenter?`);
      return r;
    };
    const aboutRaw = obj.about;
    const about = (Array.isArray(aboutRaw) ? aboutRaw[0] : aboutRaw) as LooseObject | undefined;
    const str = (v: Loose | undefined): string => {
      const x = Array.isArray(v) ? v[0] : v;
      return typeof x === 'string' ? x : '';
    };
    const content: ServiceContent = {
      rootFolder: need('rootFolder'),
      propertyCollector: need('propertyCollector'),
      viewManager: need('viewManager'),
      sessionManager: need('sessionManager'),
      apiVersion: str(about?.apiVersion),
      fullName: str(about?.fullName),
    };
    if (/^\d+(\.\d+)+$/.test(content.apiVersion)) this.version = content.apiVersion;
    this.content = content;
    return content;
  }

  private sc(): ServiceContent {
    if (!this.content) throw new VsphereError(`vCenter ${this.endpoint}: RetrieveServiceContent must come first`, 'client');
    return this.content;
  }

  async login(user: string, password: string): Promise<void> {
    this.secrets = [password];
    const sc = this.content ?? (await this.retrieveServiceContent());
    await this.call('Login', `${moRefXml('_this', sc.sessionManager)}<userName>${escapeXml(user)}</userName><password>${escapeXml(password)}</password>`);
    if (!this.cookie) throw this.fail('Login', `the server set no ${SESSION_COOKIE} cookie`);
  }

  /** Ends the session; never throws. */
  async logout(): Promise<void> {
    if (!this.cookie || !this.content) return;
    try {
      await this.call('Logout', moRefXml('_this', this.content.sessionManager));
    } catch {
      // the session times out on its own
    }
    this.cookie = undefined;
  }

  async createContainerView(types: string[], container?: MoRef, recursive = true): Promise<MoRef> {
    const sc = this.sc();
    const res = await this.call(
      'CreateContainerView',
      moRefXml('_this', sc.viewManager) + moRefXml('container', container ?? sc.rootFolder) + types.map((t) => `<type>${escapeXml(t)}</type>`).join('') + `<recursive>${recursive}</recursive>`,
    );
    const ref = looseToRef(xmlToLoose(xChildren(res, 'returnval')[0]));
    if (!ref) throw this.fail('CreateContainerView', 'no view in the response');
    return ref;
  }

  async destroyView(view: MoRef): Promise<void> {
    await this.call('DestroyView', moRefXml('_this', view));
  }

  /** Every object of the given types in a container view, with the given properties (all pages). */
  async retrieveFromView(view: MoRef, specs: PropertySpec[], pageSize = 500): Promise<ObjectContent[]> {
    const sc = this.sc();
    const propSet = specs
      .map((s) => `<propSet><type>${escapeXml(s.type)}</type><all>false</all>${s.pathSet.map((p) => `<pathSet>${escapeXml(p)}</pathSet>`).join('')}</propSet>`)
      .join('');
    const objectSet =
      `<objectSet>${moRefXml('obj', view)}<skip>true</skip>` +
      '<selectSet xsi:type="TraversalSpec"><name>traverseEntities</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet>';
    const out: ObjectContent[] = [];
    let res = await this.call(
      'RetrievePropertiesEx',
      `${moRefXml('_this', sc.propertyCollector)}<specSet>${propSet}${objectSet}</specSet><options><maxObjects>${pageSize}</maxObjects></options>`,
    );
    for (let page = 0; ; page++) {
      const rv = xChildren(res, 'returnval')[0];
      if (rv === undefined) break;
      for (const oc of xChildren(rv, 'objects')) out.push(this.objectContent(oc));
      const token = xText(xChildren(rv, 'token')[0]);
      if (!token) break;
      if (page > 100_000) throw this.fail('ContinueRetrievePropertiesEx', 'too many pages');
      res = await this.call('ContinueRetrievePropertiesEx', `${moRefXml('_this', sc.propertyCollector)}<token>${escapeXml(token)}</token>`);
    }
    return out;
  }

  private objectContent(oc: unknown): ObjectContent {
    const obj = looseToRef(xmlToLoose(xChildren(oc, 'obj')[0]));
    if (!obj) throw this.fail('RetrievePropertiesEx', 'an object without a reference in the response');
    const props = new Map<string, Loose>();
    for (const p of xChildren(oc, 'propSet')) {
      const name = xText(xChildren(p, 'name')[0]);
      if (name) props.set(name, xmlToLoose(xChildren(p, 'val')[0]));
    }
    const missing: ObjectContent['missing'] = [];
    for (const m of xChildren(oc, 'missingSet')) {
      const fault = xChildren(xChildren(m, 'fault')[0], 'fault')[0];
      const t = fault && typeof fault === 'object' ? Object.entries(fault as XNode).find(([a]) => a.startsWith('@_') && a.endsWith(':type'))?.[1] : undefined;
      missing.push({ path: xText(xChildren(m, 'path')[0]), fault: t ? localName(String(t)) : 'fault' });
    }
    return { obj, props, missing };
  }

  /** DistributedVirtualSwitch.FetchDVPorts without criteria: every port of the switch. */
  async fetchDVPorts(dvs: MoRef): Promise<Loose[]> {
    const res = await this.call('FetchDVPorts', moRefXml('_this', dvs));
    return xChildren(res, 'returnval').map(xmlToLoose);
  }

  /** Releases the connection pool of an insecure client. */
  async close(): Promise<void> {
    await this.dispatcher?.close().catch(() => undefined);
  }
}
