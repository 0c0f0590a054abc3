package client

// Class is what the Windows Update client was doing when it sent a
// request. The values are those of DESIGN.md and of the scenarios' match
// blocks; the client has its own type because it does not import the
// faults package.
type Class string

// The request classes.
const (
	ClassScan       Class = "scan"       // SOAP: client, SimpleAuth and reporting web services
	ClassSelfUpdate Class = "selfupdate" // wuident.cab
	ClassRedirector Class = "redirector" // wuredir.cab, SLS
	ClassDownload   Class = "download"   // content, through BITS or Delivery Optimization
)

// Classes lists every class.
var Classes = []Class{ClassScan, ClassSelfUpdate, ClassRedirector, ClassDownload}

// Phase is where in an exchange a failure happened, in the order an
// exchange passes through them. The empty phase means no socket failed:
// the client's own configuration (a malformed proxy list or URL), or a
// decision WUA took on a whole response (a SOAP fault, a content type, a
// cabinet, a digest, a range).
type Phase string

// The phases.
const (
	PhaseResolve   Phase = "resolve"   // DNS lookup of the target or proxy host
	PhaseConnect   Phase = "connect"   // TCP connect
	PhaseProxy     Phase = "proxy"     // CONNECT request and the proxy's answer (407)
	PhaseHandshake Phase = "handshake" // TLS handshake
	PhaseRequest   Phase = "request"   // sending the request
	PhaseHeaders   Phase = "headers"   // waiting for and reading the status line and headers
	PhaseBody      Phase = "body"      // reading the body
)

// Phases lists every phase in order.
var Phases = []Phase{PhaseResolve, PhaseConnect, PhaseProxy, PhaseHandshake, PhaseRequest, PhaseHeaders, PhaseBody}

// Generation is the Windows Update Agent generation the client emulates.
type Generation string

// The generations.
const (
	// Modern is Windows 10/11: the scan speaks SOAP through WWSAPI (NWS).
	Modern Generation = "modern"
	// Legacy is Windows XP to 8.1: the scan speaks SOAP through ATL Server.
	Legacy Generation = "legacy"
)

// Stack is the download stack of content jobs.
type Stack string

// The download stacks.
const (
	StackDO   Stack = "do"   // Delivery Optimization (Windows 10+ default)
	StackBITS Stack = "bits" // Background Intelligent Transfer Service
)
