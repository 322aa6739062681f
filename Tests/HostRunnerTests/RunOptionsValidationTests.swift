import XCTest

@testable import HostRunner

/// `RunOptions.validate`: the one check of a run's options, whoever made them.
final class RunOptionsValidationTests: XCTestCase {
    private func refusal(_ edit: (inout RunOptions) -> Void) -> String? {
        var options = RunOptions()
        edit(&options)
        do { try options.validate() } catch { return error.description }
        return nil
    }

    func testEachOutOfRangeOptionIsRefusedNamingIt() {
        XCTAssertNil(refusal { _ in })
        XCTAssertEqual(refusal { $0.vcpus = 0 }, "--vcpus must be between 1 and 16 (got 0)")
        XCTAssertEqual(refusal { $0.timeout = .infinity }, "--timeout must be a number of seconds above 0 and at most 3600 (got inf)")
        XCTAssertEqual(refusal { $0.maxEvents = 0 }, "--max-events must be between 1 and 1000000 (got 0)")
        XCTAssertEqual(refusal { $0.injectRetries = -1 }, "--inject-retry must be 0 or more (got -1)")
        XCTAssertEqual(refusal { $0.memory = 3 << 20 }, "--memory must be a multiple of 2 MiB between 2 MiB and 3 GiB (got 0x300000)")
        XCTAssertEqual(refusal { $0.memory = 4 << 30 }, "--memory must be a multiple of 2 MiB between 2 MiB and 3 GiB (got 0x100000000)")
        // Regression: with the SNP launch pages asked of the SNP platform only, a TDX or KVM
        // run given --kernel ran without its hashes instead of being refused.
        for platform in [nil, ConversionPlatform.kvm, .tdx] {
            XCTAssertEqual(
                refusal {
                    $0.platform = platform; $0.snpKernelHashPage = [0]
                },
                "--kernel needs --platform ghcb and a firmware-layout image", "\(platform.map(\.rawValue) ?? "no platform")")
        }
        XCTAssertNil(
            refusal {
                $0.platform = .sevSNP; $0.snpKernelHashPage = [0]
            })
    }
}
