import XCTest

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The structure the Jenkins xunit plugin's junit-10.xsd (jenkinsci/xunit-plugin,
/// src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd) allows,
/// restated as the elements each element may contain and the attributes each may carry,
/// with the required ones: what the validator rejects (e.g. `skipped` on <testsuites>).
enum JUnitSchema {
    private struct Rule {
        let children: Set<String>
        let attributes: Set<String>
        let required: Set<String>
        let text: Bool
    }

    private static let rules: [String: Rule] = [
        "testsuites": Rule(children: ["testsuite"], attributes: ["name", "time", "tests", "failures", "errors"], required: [], text: false),
        "testsuite": Rule(
            children: ["testsuite", "properties", "testcase", "system-out", "system-err"],
            attributes: ["name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id", "package", "file", "log", "url"],
            required: ["name", "tests", "failures", "errors"], text: false),
        "properties": Rule(children: ["property"], attributes: [], required: [], text: false),
        "property": Rule(children: [], attributes: ["name", "value"], required: ["name", "value"], text: false),
        "testcase": Rule(
            children: ["skipped", "error", "failure", "system-out", "system-err"], attributes: ["name", "time", "classname", "group"],
            required: ["name"], text: false),
        "failure": Rule(children: [], attributes: ["type", "message"], required: [], text: true),
        "error": Rule(children: [], attributes: ["type", "message"], required: [], text: true),
        "skipped": Rule(children: [], attributes: ["type", "message"], required: [], text: true),
        "system-out": Rule(children: [], attributes: [], required: [], text: true),
        "system-err": Rule(children: [], attributes: [], required: [], text: true),
    ]

    /// SUREFIRE_TIME: digits with optional thousands commas and a fraction.
    private static let time = #"^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$"#

    static func check(_ element: XMLElement, file: StaticString, line: UInt) {
        let name = element.name ?? "?"
        guard let rule = rules[name] else { return XCTFail("<\(name)> is not in junit-10.xsd", file: file, line: line) }
        let attributes = Set((element.attributes ?? []).compactMap(\.name))
        XCTAssertTrue(
            attributes.isSubset(of: rule.attributes),
            "<\(name)> has attributes junit-10.xsd does not allow: \(attributes.subtracting(rule.attributes).sorted())", file: file, line: line)
        XCTAssertTrue(rule.required.isSubset(of: attributes), "<\(name)> lacks \(rule.required.subtracting(attributes).sorted())", file: file, line: line)
        if name == "testsuite" || name == "testsuites", let value = element.attribute(forName: "time")?.stringValue {
            XCTAssertNotNil(value.range(of: time, options: .regularExpression), "<\(name) time=\"\(value)\"> is not a SUREFIRE_TIME", file: file, line: line)
        }
        for child in element.children ?? [] {
            if let child = child as? XMLElement {
                XCTAssertTrue(rule.children.contains(child.name ?? "?"), "<\(child.name ?? "?")> may not appear in <\(name)>", file: file, line: line)
                check(child, file: file, line: line)
            } else if child.kind == .text, !rule.text {
                XCTAssertEqual(child.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "", "", "<\(name)> holds text", file: file, line: line)
            }
        }
    }
}
