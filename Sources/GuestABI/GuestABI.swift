// GuestABI: the three guest→host conversion interfaces, reduced to one
// `ConversionRequest` as early as possible, with no I/O so that both transports
// (native KVM exits and the trap transport) share every decision.
//
// Where each transport enters:
// - KVM_HC_MAP_GPA_RANGE (a KVM_EXIT_HYPERCALL, or trapped `vmcall`/`vmmcall`):
//   `MapGPARange.decode` → host → `MapGPARange.returnValue`.
// - GHCB MSR protocol (a trapped WRMSR of 0xC0010130): `GHCBMSRRequest(msr:)`, and for
//   PSC `GHCBMSRProtocol.conversion` → host → `GHCBMSRProtocol.pageStateChangeResponse`.
// - GHCB page (a trapped VMGEXIT): read the page once into `GHCBPage`, call
//   `GHCBExitHandler.handle`, write back `changedRanges`.
// - TDX (a trapped TDCALL): `TDCall.decode`; MapGPA through `TDXMapGPAProcessor`,
//   TDG.VP.INFO through `TDXVPInfo`; answers applied with `TDVMCallCompletion.apply`.
//
// The hypervisor's other half, requests that convert nothing:
// - GHCB NAE events (IOIO, MSR, CPUID, MMIO, termination): `GHCBEventDecoder.decode`
//   → the runner serves the `GHCBEvent` → `GHCBEventAnswer.write`.
// - TDG.VP.VMCALL sub-functions (IO, RDMSR, WRMSR, CPUID, HLT, #VE.RequestMMIO,
//   GetTdVmCallInfo, ReportFatalError): `TDVMCallRequest.decode` → the runner serves
//   the request → `TDVMCallAnswer.apply`.

// Every range a request names is a `GuestPhysical.GPARange`, the project's one range type;
// clients import GuestPhysical themselves (no re-export, so each file says what it uses).
