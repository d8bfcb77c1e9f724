/// Text for HTML that must also be well-formed XML (the report parses as XHTML).
enum HTMLText {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        // By scalar, not by Character: "\r\n" is one Character, and a control character may
        // come with combining marks after it.
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Characters XML 1.0 does not allow at all (C0 controls, U+FFFE, U+FFFF).
                out.unicodeScalars.append(isXMLCharacter(scalar) ? scalar : " ")
            }
        }
        return out
    }

    /// XML 1.0's `Char`: tab, newline, carriage return, and U+0020 up, without U+FFFE and
    /// U+FFFF (surrogates are no Unicode scalar).
    static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD: true
        case 0x20...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }
}
