import GuestABI

/// A GHCB page as a guest prepares it for a PSC NAE event: exit code 0x80000010,
/// SW_EXITINFO1/2 = 0, SW_SCRATCH = GHCB GPA + offset, all marked valid, and the
/// descriptor written at that offset (edk2 SnpPageStateChangeInternal.c does this).
struct GHCBFixture {
    static let ghcbGPA: UInt64 = 0x80_0000

    static func pageStateChange(_ descriptor: PageStateChangeDescriptor, offset: Int = 0x800) -> GHCBPage {
        var page = GHCBPage()
        page.set(.swExitCode, 0x8000_0010)
        page.set(.swExitInfo1, 0)
        page.set(.swExitInfo2, 0)
        page.set(.swScratch, ghcbGPA + UInt64(offset))
        descriptor.write(to: &page, offset: offset)
        page.markClean()
        return page
    }

    static func descriptor(in page: GHCBPage, offset: Int = 0x800, count: Int) -> PageStateChangeDescriptor {
        PageStateChangeDescriptor(page: page, offset: offset, entryCount: count)
    }
}

/// A host that records every request and answers from a script.
final class RecordingHost {
    var requests: [ConversionRequest] = []
    var answer: (Int) -> ConversionOutcome = { _ in .converted }

    func serve(_ request: ConversionRequest) -> ConversionOutcome {
        requests.append(request)
        return answer(requests.count)
    }
}
