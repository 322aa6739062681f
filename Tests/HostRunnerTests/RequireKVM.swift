import Foundation
import XCTest

/// Skips, printing why, only when this host has no /dev/kvm: the one reason a HostRunner test
/// that needs a VM may skip. `needs` says what the test would have made.
func requireKVM(_ needs: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
    guard !FileManager.default.fileExists(atPath: "/dev/kvm") else { return }
    print("skipping: /dev/kvm is absent on this host" + (needs.map { " (\($0))" } ?? ""))
    throw XCTSkip("/dev/kvm is absent on this host", file: file, line: line)
}
