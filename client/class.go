package client

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
