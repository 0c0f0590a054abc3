// Package wsus is the Windows Update upstream emulator: a small WSUS server built
// from the public [MS-WUSP] specification (Windows Update Services: Client-Server
// Protocol), with the response shapes GoSecure/pywsus serves to real clients.
// Labs without internet, CI and the lab command point the emulated client, or a
// real Windows client whose WUServer policy names the emulator, at it; both
// complete a scan.
//
// # API
//
//	srv, err := wsus.New(wsus.Options{Seed: 1, OnReport: journal})
//	http.Serve(listener, srv) // the world owns listeners, TLS and faults
//
// New builds a deterministic catalog (Options.Seed) and returns a *Server, an
// http.Handler. It opens no socket. Catalog lists the fake updates with their
// files (URL path, SHA-1, SHA-256, size); Reports lists what clients reported.
// OnCall and OnReport feed the world's journal. WriteCAB is the cabinet writer
// the server uses for every .cab it serves.
//
// # Endpoints
//
// The handler routes on the path only, case-insensitively and under any prefix,
// so the same service answers for wsus.lab:8530, fe3.delivery.mp.microsoft.com
// and www.update.microsoft.com/v6/…:
//
//	…/ClientWebService/Client.asmx            GetConfig, GetConfig2, GetCookie, RegisterComputer,
//	                                          SyncUpdates, GetExtendedUpdateInfo, GetFileLocations,
//	                                          RefreshCache (also …/client.asmx/secured)
//	…/SimpleAuthWebService/SimpleAuth.asmx     GetAuthorizationCookie
//	…/ReportingWebService/ReportingWebService.asmx  ReportEventBatch
//	…/ClientWebService/wusserverversion.xml    the version test URL of [L-SCAN]
//	…/selfupdate/wuident.cab                   wuident.txt (fake, well-formed identity)
//	…/wuredir.cab                              wuredir.xml naming the server's own URLs
//	…/Content/XX/<SHA-1>.cab                   update content, XX the digest's last byte
//	…/msdownload/update/software/…/<SHA-1>.cab metadata (ECP) cabs and content on Microsoft's hosts
//
// SOAP 1.1 (SOAPAction header) and SOAP 1.2 (action in Content-Type or the
// WS-Addressing header, as fe3 clients send) are both answered, in the version
// asked. The SOAPAction of a method is the service namespace plus "/" plus the
// method, e.g. http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService/SyncUpdates;
// reporting uses http://www.microsoft.com/SoftwareDistribution/ReportEventBatch.
// Responses carry IIS and ASP.NET headers (Server: Microsoft-IIS/10.0,
// X-Powered-By: ASP.NET, X-AspNet-Version, Cache-Control: private). GET of an
// .asmx gets a service page. Files are served with http.ServeContent: Range and
// 206, If-Range, HEAD.
//
// # Protocol
//
// The call order is that of [MS-WUSP] 3.1.5: GetConfig (which names SimpleTargeting
// at SimpleAuthWebService/SimpleAuth.asmx), GetAuthorizationCookie, GetCookie,
// RegisterComputer when IsRegistrationRequired (Options.Registration), SyncUpdates
// until NewUpdates is empty or Truncated is false, GetExtendedUpdateInfo,
// GetFileLocations, content download, ReportEventBatch.
//
// Each fake update is two revisions, as in GoSecure/pywsus: the installable update
// (deployment action Install) bundling one child (action Bundle, applicability
// "not installed, installable") that carries one content cabinet. SyncUpdates
// paging is stateless: each answer holds the next Options.PageSize updates whose
// revision IDs the client does not list in InstalledNonLeafUpdateIDs,
// OtherCachedUpdateIDs or CachedDriverIDs, and is Truncated while more remain.
// Options.EndlessPaging answers Truncated forever, which makes WUA stop after 200
// round trips with 0x80244010 [SUS-4010]. Driver sync (SkipSoftwareSync) answers
// nothing. File metadata carries the SHA-1 (Digest) and SHA-256
// (AdditionalDigest) in base64 and the size; FileLocations carry the URLs, built
// from Options.ContentBaseURL or else from the request's own scheme and Host.
//
// A client of fe3 (a *.delivery.mp.microsoft.com name) gets each bundled
// update's file metadata in an external metadata (ECP) cab, as Microsoft
// Update hands out metadata cabs on www.download.windowsupdate.com ([AC]):
// its Extended fragment is then <ExtendedProperties/> and
// <ExternalMetadata Digest DigestAlgorithm="SHA1" FileName Size/>, and
// FileLocations carries the cab's URL under its digest. The cab (written by
// WriteCAB) holds one document, <UpdateID>.xml, whose <UpdateMetadata> root
// holds the Extended fragment with <Files>. The element names and the
// layout are this emulator's; the real ECP format is not in our references.
//
// Cookies are opaque, sealed with a key derived from the seed and valid 24 hours.
// Faults follow ASP.NET and WSUS: HTTP 500 with a SOAP fault; WSUS faults carry
// the detail <ErrorCode>, <Message>, <ID>, <Method> [L-4007]. The server sends
// InvalidCookie (missing, forged), ServerChanged (another seed's cookie),
// CookieExpired, InvalidAuthorizationCookie, ConfigChanged (GetCookie with a
// lastChange older than GetConfig's LastChange), RegistrationRequired,
// InvalidParameters, and InternalServerError for a recovered panic.
//
// ReportEventBatch events become Reports: Win32HResult as a uint32 (clients send
// a signed decimal), event and update ids, and the raw text fields. This is how a
// real Windows client tells the lab which code it hit.
//
// # Bad input
//
// Bodies over MaxRequestBytes (4 MiB) get 413. A body that is not XML, not a SOAP
// envelope, has a DTD, or a method element that does not match the action gets
// ASP.NET's "Server was unable to read request" fault (soap:Client); a missing or
// unknown SOAPAction gets its "did not recognize the value of HTTP Header
// SOAPAction" fault; other verbs get 405. Nothing a client sends makes the handler
// panic (FuzzServeSOAP).
//
// # Limits
//
// The catalog holds at most 1000 updates and 256 MiB of content. wuident.cab and
// the content are not Authenticode-signed, so a real client scans and downloads
// but does not install (the install command is declared to fail), and a legacy
// client's self-update check of wuident.cab fails its signature check. The
// contents of wuident.txt, wuredir.xml and wusserverversion.xml are well-formed
// stand-ins: their real schemas are not in our references. GetConfig2 answers
// GetConfig's configuration under its own element names (inferred).
// GetExtendedUpdateInfo2, StartCategoryScan, SyncPrinterCatalog and GetTimestamps
// are not served (unknown-action fault).
package wsus
