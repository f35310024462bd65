using System.Text;

namespace WorkbenchAdmin.Core.Configuration;

public enum ConfigLineKind
{
    Blank,
    Comment,
    Section,
    Entry,
    /// <summary>A bare value in a list section, such as a host in the legacy <c>[nodes]</c> of load-balancer, or a line of a list file.</summary>
    ListItem,
    /// <summary>A line that continues the field before it (<see cref="ConfigSyntax.Dcf"/>: it starts with white space).</summary>
    Continuation,
}

/// <summary>The reader a file goes through (see <see cref="ConfigFileKinds"/> for which file is read how).</summary>
public enum ConfigSyntax
{
    /// <summary>
    /// boost::program_options' config-file parser (rserver.conf and its siblings): '#' starts a comment anywhere on
    /// a line, a line starting with ';' is a comment, <c>[a]</c> makes the keys after it <c>a.key</c>, key and value are
    /// trimmed, a line without '=' is an error, and a key given twice is an error unless its option takes many values.
    /// </summary>
    Boost,
    /// <summary>Workbench's own key=value reader (core::Settings, database.conf): only whole-line '#' comments; a '#' after '=' is part of the value.</summary>
    Settings,
    /// <summary>
    /// boost::property_tree's read_ini, which Workbench's ConfigProfile uses (logging.conf, profiles): whole-line '#' or ';'
    /// comments only, a section name given twice or a key given twice in a section is an error.
    /// </summary>
    Ini,
    /// <summary>
    /// rstudio's DCF reader (core::text::parseDcfFile): blocks of <c>Field: value</c> lines separated by blank lines, a
    /// line starting with white space continues the field before it, a line starting with '#' is a comment.
    /// </summary>
    Dcf,
    /// <summary>One item per line (an extensions list): blank lines and lines starting with '#' aside.</summary>
    List,
}

/// <summary>One physical line. Keeps its exact text and terminator so a document writes back byte for byte.</summary>
public sealed class ConfigLine
{
    internal ConfigLine(int number, ConfigLineKind kind, string text, string terminator, string? section,
                        string? key, int valueStart, int valueLength, int instance = 0)
    {
        Instance = instance;
        Number = number;
        Kind = kind;
        Text = text;
        Terminator = terminator;
        Section = section;
        Key = key;
        ValueStart = valueStart;
        ValueLength = valueLength;
    }

    /// <summary>1-based line number in the document as it stands now.</summary>
    public int Number { get; internal set; }
    public ConfigLineKind Kind { get; }
    /// <summary>The line without its terminator.</summary>
    public string Text { get; internal set; }
    /// <summary><c>"\n"</c>, <c>"\r\n"</c>, or empty for a last line with no newline.</summary>
    public string Terminator { get; internal set; }
    /// <summary>The section this line belongs to (null before any header); for a header, its own name.</summary>
    public string? Section { get; }
    /// <summary>The key of an entry, or the item of a list line.</summary>
    public string? Key { get; }
    /// <summary>
    /// Which section (or DCF block) the line belongs to, counted from 1 in file order (0: before any header or
    /// block). Tells apart sections of the same name that repeat, such as launcher.conf's <c>[cluster]</c>.
    /// </summary>
    public int Instance { get; }
    /// <summary>The value of an entry, with surrounding white space removed (a DCF field with its continuation lines); null for other kinds.</summary>
    public string? Value => Kind == ConfigLineKind.Entry ? Text.Substring(ValueStart, ValueLength) + Continued : null;
    /// <summary>A DCF field's continuation lines, each after a newline, as rstudio's reader joins them.</summary>
    internal string? Continued { get; set; }

    internal int ValueStart { get; private set; }
    internal int ValueLength { get; private set; }
    /// <summary>1-based column of the value, for errors that point at it without quoting it.</summary>
    internal int ValueColumn => ValueStart + 1;
    /// <summary>1-based column of the line's first non-blank character.</summary>
    internal int ContentColumn => Text.Length - Text.TrimStart().Length + 1;

    /// <summary>The option boost reads for an entry: its section is a prefix, joined with a '.' unless it ends with one (<c>[a]</c> → <c>a.key</c>, <c>[a.]</c> too).</summary>
    public string? OptionName => Key is null || Section is null ? Key : Section.EndsWith('.') ? Section + Key : $"{Section}.{Key}";

    internal void ReplaceValue(string value)
    {
        // An empty value right before a trailing comment ("key=# note") gets a space between the two.
        var gap = ValueLength == 0 && value.Length > 0 && ValueStart < Text.Length && Text[ValueStart] == '#' ? " " : "";
        Text = string.Concat(Text.AsSpan(0, ValueStart), value, gap, Text.AsSpan(ValueStart + ValueLength));
        ValueLength = value.Length;
    }
}

/// <summary>How a particular file bends the common format.</summary>
/// <param name="InlineComments">
/// '#' starts a comment anywhere on a line (boost's config-file rules); otherwise only a line that starts
/// with '#' is a comment, and a '#' after a key is part of its value.
/// </param>
public sealed record ConfigDialect(IReadOnlySet<string> ListSections, bool InlineComments = true)
{
    private static readonly IReadOnlySet<string> None = new HashSet<string>();

    public ConfigSyntax Syntax { get; init; } = ConfigSyntax.Boost;
    /// <summary>
    /// Sections whose every header starts a section of its own, told apart by <see cref="ConfigLine.Instance"/>
    /// (launcher.conf's <c>[cluster]</c>); elsewhere a header given again continues the same section, as boost's
    /// prefixes do.
    /// </summary>
    public IReadOnlySet<string> RepeatableSections { get; init; } = None;
    /// <summary>Keys that may be given more than once, their values adding up (boost's multitoken options).</summary>
    public IReadOnlySet<string> MultiValuedKeys { get; init; } = None;
    /// <summary>A DCF file whose lines may also be bare absolute paths (r-versions' short form).</summary>
    public bool BarePaths { get; init; }

    /// <summary>rserver.conf and its siblings, which Workbench reads with boost's config-file parser.</summary>
    public static readonly ConfigDialect Standard = new(None);

    /// <summary>
    /// load-balancer: the legacy <c>[nodes]</c> section lists one host per line, without '='. Workbench's
    /// reader of this file is not public: we read it by boost's rules, as its siblings.
    /// </summary>
    public static readonly ConfigDialect LoadBalancer = new(new HashSet<string>(StringComparer.Ordinal) { "nodes" });

    /// <summary>
    /// database.conf (or whatever database-config-file names): Workbench reads it with its own key=value
    /// reader (core::Settings: split at the first '=', trim both sides), which has no comment after a value,
    /// so there a '#' belongs to the value, as in a password.
    /// </summary>
    public static readonly ConfigDialect Database = new(None, InlineComments: false) { Syntax = ConfigSyntax.Settings };

    /// <summary>
    /// launcher.conf: <c>[server]</c> once, <c>[cluster]</c> once per cluster. The Job Launcher's reader is not
    /// public; we read its lines by boost's rules, as rserver.conf's (our choice), with every <c>[cluster]</c> a
    /// section of its own.
    /// </summary>
    public static readonly ConfigDialect Launcher = new(None) { RepeatableSections = new HashSet<string>(StringComparer.Ordinal) { "cluster" } };

    /// <summary>logging.conf and the profiles files, which Workbench reads with boost::property_tree's read_ini (ConfigProfile).</summary>
    public static readonly ConfigDialect Ini = new(None, InlineComments: false) { Syntax = ConfigSyntax.Ini };

    /// <summary>Blocks of <c>Field: value</c> (notifications.conf, launcher-env, launcher-mounts).</summary>
    public static readonly ConfigDialect Dcf = new(None, InlineComments: false) { Syntax = ConfigSyntax.Dcf };

    /// <summary>r-versions: DCF blocks, or (its short form) one R home per line.</summary>
    public static readonly ConfigDialect RVersions = Dcf with { BarePaths = true };

    /// <summary>An extensions list: one item per line.</summary>
    public static readonly ConfigDialect List = new(None, InlineComments: false) { Syntax = ConfigSyntax.List };
}

/// <summary>One section of a document as read: its name (null before any header, or for a DCF block), which one it is, and its lines.</summary>
public sealed record ConfigSection(string? Name, int Instance, ConfigLine? Header, IReadOnlyList<ConfigLine> Entries)
{
    /// <summary>The value of a key of this section (the first, if given twice).</summary>
    public string? Get(string key) => Entries.FirstOrDefault(l => l.Kind == ConfigLineKind.Entry && l.Key == key)?.Value;
}

/// <summary>
/// The rstudio configuration formats of the files under /etc/rstudio, each read by the rules Workbench applies to it
/// (<see cref="ConfigSyntax"/>): <c>key=value</c> lines with optional spaces around '=', '#' comments (anywhere on a
/// line, or only whole lines), blank lines, <c>[section]</c> headers, DCF blocks and lists. Parsing is strict (a line
/// Workbench would refuse is an error naming the file and line) and lossless (the document writes back byte-identical,
/// an edit touches only the lines it must, and a changed line keeps its trailing comment).
/// </summary>
public sealed class ConfigDocument
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private readonly List<ConfigLine> _lines;
    private readonly bool _hasBom;

    private ConfigDocument(string path, ConfigDialect dialect, List<ConfigLine> lines, bool hasBom)
    {
        FilePath = path;
        Dialect = dialect;
        _lines = lines;
        _hasBom = hasBom;
    }

    /// <summary>The path named in errors (the file it was read from, or will be written to).</summary>
    public string FilePath { get; }
    public ConfigDialect Dialect { get; }
    public IReadOnlyList<ConfigLine> Lines => _lines;

    /// <remarks>Without a <paramref name="dialect"/>, the file's name says how Workbench reads it (<see cref="ConfigFiles.DialectOf"/>).</remarks>
    public static ConfigDocument Empty(string path, ConfigDialect? dialect = null) =>
        new(path, dialect ?? ConfigFiles.DialectOf(path), [], hasBom: false);

    public static ConfigDocument Parse(string text, string path, ConfigDialect? dialect = null) =>
        Parse(Encoding.UTF8.GetBytes(text), path, dialect);

    /// <summary>Where the parser is: the section (and which one of that name), and for DCF the field a continuation belongs to.</summary>
    private struct Cursor
    {
        public string? Section;
        public int Instance;
        public ConfigLine? Field;
        public bool BlockOpen;
    }

    public static ConfigDocument Parse(ReadOnlySpan<byte> bytes, string path, ConfigDialect? dialect = null)
    {
        dialect ??= ConfigFiles.DialectOf(path);
        var hasBom = bytes.StartsWith(Bom);
        if (hasBom) bytes = bytes[Bom.Length..];

        var lines = new List<ConfigLine>();
        var firstLineOfKey = new Dictionary<(string? Section, int Instance, string Key), int>();
        // read_ini: a section name given again is an error unless the first was empty (it drops empty sections).
        var sectionHeaders = new Dictionary<string, (int Line, int Instance)>(StringComparer.Ordinal);
        var cursor = new Cursor();
        var number = 0;
        while (!bytes.IsEmpty)
        {
            number++;
            var nl = bytes.IndexOf((byte)'\n');
            ReadOnlySpan<byte> raw;
            string terminator;
            if (nl < 0) { raw = bytes; terminator = ""; bytes = default; }
            else
            {
                var crlf = nl > 0 && bytes[nl - 1] == (byte)'\r';
                raw = bytes[..(crlf ? nl - 1 : nl)];
                terminator = crlf ? "\r\n" : "\n";
                bytes = bytes[(nl + 1)..];
            }

            string text;
            try { text = StrictUtf8.GetString(raw); }
            catch (DecoderFallbackException e)
            {
                var at = Math.Max(e.Index, 0);
                throw new ConfigFormatException(path, number, at + 1, KeyBefore(raw[..at]), $"invalid UTF-8 at byte {at + 1} of the line");
            }

            var line = Classify(path, dialect, number, text, terminator, ref cursor);
            if (line.Kind == ConfigLineKind.Section && dialect.Syntax == ConfigSyntax.Ini)
            {
                if (sectionHeaders.TryGetValue(line.Section!, out var earlier) && lines.Any(l => l.Instance == earlier.Instance && l.Kind == ConfigLineKind.Entry))
                    throw new ConfigFormatException(path, number, line.ContentColumn, null,
                        $"section{SectionSuffix(line.Section)} given again (first on line {earlier.Line}): Workbench's reader (boost's read_ini) refuses a duplicate section name");
                sectionHeaders[line.Section!] = (number, line.Instance);
            }
            if (line.Kind == ConfigLineKind.Continuation && cursor.Field is { } field)
                field.Continued = (field.Continued ?? "") + "\n" + line.Key;
            if (line.Kind == ConfigLineKind.Entry && dialect.Syntax != ConfigSyntax.Dcf && !dialect.MultiValuedKeys.Contains(line.Key!))
            {
                // A repeatable section is a section of its own; elsewhere a section given again continues the first (boost's prefixes).
                var instance = line.Section is not null && dialect.RepeatableSections.Contains(line.Section) ? line.Instance : 0;
                if (firstLineOfKey.TryGetValue((line.Section, instance, line.Key!), out var first))
                {
                    throw new ConfigFormatException(path, number, line.ContentColumn, line.Key,
                        $"duplicate key{SectionSuffix(line.Section)} (first set on line {first}){DuplicateConsequence(dialect)}");
                }
                firstLineOfKey[(line.Section, instance, line.Key!)] = number;
            }
            lines.Add(line);
        }
        return new ConfigDocument(path, dialect, lines, hasBom);
    }

    private static string DuplicateConsequence(ConfigDialect dialect) => dialect.Syntax switch
    {
        ConfigSyntax.Boost when dialect.RepeatableSections.Count == 0 => ": Workbench refuses to start (boost: an option 'cannot be specified more than once')",
        ConfigSyntax.Ini => ": Workbench's reader (boost's read_ini) refuses a duplicate key",
        _ => "",
    };

    private static string SectionSuffix(string? section) =>
        section is null ? "" : ConfigFormatException.NameOrNull(section) is { } name ? $" in section [{name}]" : " in the same section";

    /// <summary>The key of a line whose bytes up to a bad one are <paramref name="valid"/>: the text before its '=', if any.</summary>
    private static string? KeyBefore(ReadOnlySpan<byte> valid)
    {
        var eq = valid.IndexOf((byte)'=');
        return eq < 0 ? null : StrictUtf8.GetString(valid[..eq]).Trim();
    }

    private static ConfigLine Classify(string path, ConfigDialect dialect, int number, string text, string terminator, ref Cursor cursor)
    {
        switch (dialect.Syntax)
        {
            case ConfigSyntax.Dcf: return ClassifyDcf(path, dialect, number, text, terminator, ref cursor);
            case ConfigSyntax.List:
            {
                var item = text.AsSpan().Trim();
                if (item.IsEmpty) return new ConfigLine(number, ConfigLineKind.Blank, text, terminator, null, null, 0, 0);
                if (item[0] == '#') return new ConfigLine(number, ConfigLineKind.Comment, text, terminator, null, null, 0, 0);
                return new ConfigLine(number, ConfigLineKind.ListItem, text, terminator, null, item.ToString(), 0, 0);
            }
        }

        // What the line says ends at a '#' under boost's rules; the comment after it is kept, not read.
        var end = dialect.InlineComments && text.IndexOf('#') is var hash and >= 0 ? hash : text.Length;
        var trimmed = text.AsSpan(0, end).Trim();
        if (trimmed.IsEmpty)
            return new ConfigLine(number, end < text.Length ? ConfigLineKind.Comment : ConfigLineKind.Blank, text, terminator, cursor.Section, null, 0, 0, cursor.Instance);
        // boost takes a ';' in the first column as a comment; read_ini a ';' or '#' as the first non-blank character.
        if (trimmed[0] == '#' || (dialect.Syntax == ConfigSyntax.Ini && trimmed[0] == ';') || (dialect.Syntax == ConfigSyntax.Boost && text.StartsWith(';')))
            return new ConfigLine(number, ConfigLineKind.Comment, text, terminator, cursor.Section, null, 0, 0, cursor.Instance);
        var column = text.Length - text.TrimStart().Length + 1;
        if (trimmed[0] == '[')
        {
            ReadOnlySpan<char> inside;
            if (dialect.Syntax == ConfigSyntax.Ini)
            {
                // read_ini: the name runs to the first ']'; anything after it is ignored.
                var close = trimmed.IndexOf(']');
                if (close < 0)
                    throw new ConfigFormatException(path, number, column, null, "unterminated section header (no closing ']')");
                inside = trimmed[1..close];
            }
            else
            {
                if (trimmed[^1] != ']')
                    throw new ConfigFormatException(path, number, column, null, "unterminated section header (no closing ']')");
                inside = trimmed[1..^1];
            }
            var name = inside.Trim().ToString();
            if (name.Length == 0 && dialect.Syntax != ConfigSyntax.Ini)
                throw new ConfigFormatException(path, number, column, null, "empty section name");
            if (name.AsSpan().IndexOfAny('[', ']') >= 0)
                throw new ConfigFormatException(path, number, column, null, "section name contains '[' or ']'");
            cursor.Section = name;
            cursor.Instance++;
            return new ConfigLine(number, ConfigLineKind.Section, text, terminator, name, null, 0, 0, cursor.Instance);
        }

        var eq = text.AsSpan(0, end).IndexOf('=');
        if (eq < 0)
        {
            if (cursor.Section is not null && dialect.ListSections.Contains(cursor.Section))
                return new ConfigLine(number, ConfigLineKind.ListItem, text, terminator, cursor.Section, trimmed.ToString(), 0, 0, cursor.Instance);
            throw new ConfigFormatException(path, number, column, null, "expected 'key=value' (no '=' on the line)");
        }
        var key = text.AsSpan(0, eq).Trim().ToString();
        if (key.Length == 0)
            throw new ConfigFormatException(path, number, eq + 1, null, "empty key before '='");

        var valueStart = eq + 1;
        while (valueStart < end && char.IsWhiteSpace(text[valueStart])) valueStart++;
        var valueEnd = end;
        while (valueEnd > valueStart && char.IsWhiteSpace(text[valueEnd - 1])) valueEnd--;
        return new ConfigLine(number, ConfigLineKind.Entry, text, terminator, cursor.Section, key, valueStart, valueEnd - valueStart, cursor.Instance);
    }

    /// <summary>rstudio's parseDcfFile, line by line: blank ends a block, '#' in the first column is a comment, <c>Field: value</c>, or a continuation.</summary>
    private static ConfigLine ClassifyDcf(string path, ConfigDialect dialect, int number, string text, string terminator, ref Cursor cursor)
    {
        if (text.AsSpan().Trim().IsEmpty)
        {
            cursor.Field = null;
            cursor.BlockOpen = false;
            return new ConfigLine(number, ConfigLineKind.Blank, text, terminator, null, null, 0, 0, cursor.Instance);
        }
        if (text[0] == '#')
            return new ConfigLine(number, ConfigLineKind.Comment, text, terminator, null, null, 0, 0, cursor.Instance);
        // The field regex ([^\s]+?)\s*:\s*(.*)$: a name without white space, then ':'.
        var colon = text.IndexOf(':');
        var nameEnd = colon;
        while (nameEnd > 0 && text[nameEnd - 1] is ' ' or '\t') nameEnd--;
        if (colon > 0 && nameEnd > 0 && text.AsSpan(0, nameEnd).IndexOfAny(' ', '\t') < 0)
        {
            if (!cursor.BlockOpen) { cursor.Instance++; cursor.BlockOpen = true; }
            var valueStart = colon + 1;
            while (valueStart < text.Length && char.IsWhiteSpace(text[valueStart])) valueStart++;
            var field = new ConfigLine(number, ConfigLineKind.Entry, text, terminator, null, text[..nameEnd], valueStart, text.Length - valueStart, cursor.Instance);
            cursor.Field = field;
            return field;
        }
        if (cursor.Field is not null && text[0] is ' ' or '\t')
            return new ConfigLine(number, ConfigLineKind.Continuation, text, terminator, null, text[1..], 0, 0, cursor.Instance);
        if (dialect.BarePaths && text.TrimStart().StartsWith('/'))
        {
            // Each R home of the short form is an R version of its own.
            cursor.Instance++;
            cursor.BlockOpen = false;
            cursor.Field = null;
            return new ConfigLine(number, ConfigLineKind.ListItem, text, terminator, null, text.Trim(), 0, 0, cursor.Instance);
        }
        var column = text.Length - text.TrimStart().Length + 1;
        throw new ConfigFormatException(path, number, column, null,
            "expected 'Field: value', a continuation line (starting with white space) or a '#' comment: Workbench's DCF reader refuses the line");
    }

/// <summary>The document as bytes, identical to what was parsed when nothing was edited.</summary>
    public byte[] ToBytes()
    {
        var sb = new StringBuilder();
        foreach (var line in _lines) sb.Append(line.Text).Append(line.Terminator);
        var body = StrictUtf8.GetBytes(sb.ToString());
        return _hasBom ? [.. Bom, .. body] : body;
    }

    public override string ToString() => Encoding.UTF8.GetString(ToBytes());

    /// <summary>The entry for <paramref name="key"/> in <paramref name="section"/> (null: before any header).</summary>
    public ConfigLine? Find(string? section, string key)
    {
        foreach (var line in _lines)
        {
            if (line.Kind == ConfigLineKind.Entry && line.Section == section && line.Key == key) return line;
        }
        return null;
    }

    public string? GetValue(string? section, string key) => Find(section, key)?.Value;

    /// <summary>Every entry for <paramref name="key"/> in <paramref name="section"/>, in file order (a multi-valued option, or a repeatable section's).</summary>
    public IEnumerable<ConfigLine> FindAll(string? section, string key) =>
        _lines.Where(l => l.Kind == ConfigLineKind.Entry && l.Section == section && l.Key == key);

    /// <summary>
    /// The sections as read, in file order: one per header (launcher.conf's clusters each apart), one per DCF block,
    /// and the lines before any header as a section without a name.
    /// </summary>
    public IReadOnlyList<ConfigSection> Sections()
    {
        var sections = new List<ConfigSection>();
        foreach (var group in _lines.GroupBy(l => l.Instance))
        {
            var header = group.FirstOrDefault(l => l.Kind == ConfigLineKind.Section);
            var entries = group.Where(l => l.Kind is ConfigLineKind.Entry or ConfigLineKind.ListItem).ToList();
            if (header is null && entries.Count == 0) continue;
            sections.Add(new ConfigSection(header?.Section, group.Key, header, entries));
        }
        return sections;
    }

    /// <summary>The sections called <paramref name="name"/>, each apart.</summary>
    public IReadOnlyList<ConfigSection> Sections(string name) => Sections().Where(s => s.Name == name).ToList();

    public bool HasSection(string section) =>
        _lines.Any(l => l.Kind == ConfigLineKind.Section && l.Key is null && l.Section == section);

    public IEnumerable<ConfigLine> Entries => _lines.Where(l => l.Kind is ConfigLineKind.Entry or ConfigLineKind.ListItem);

    /// <summary>Removes a section's header and every line of it (the legacy [nodes] of load-balancer). Returns false when there is none.</summary>
    public bool RemoveSection(string section)
    {
        var instances = _lines.Where(l => l.Kind == ConfigLineKind.Section && l.Section == section).Select(l => l.Instance).ToHashSet();
        if (instances.Count == 0) return false;
        var lastTerminator = _lines[^1].Terminator;
        _lines.RemoveAll(l => instances.Contains(l.Instance));
        // Blank lines left at the end, where the section was, go too; a missing final newline stays missing.
        while (_lines.Count > 0 && _lines[^1].Kind == ConfigLineKind.Blank) _lines.RemoveAt(_lines.Count - 1);
        if (_lines.Count > 0 && lastTerminator.Length == 0) _lines[^1].Terminator = "";
        Renumber();
        return true;
    }

    /// <summary>
    /// Sets a key. An existing line has only its value replaced (spacing and everything around it stay);
    /// a new key is added at the end of its section (created when missing) in the file's own style.
    /// Returns false when the value was already that.
    /// </summary>
    public bool Set(string? section, string key, string value)
    {
        ValidateKey(key);
        ValidateValue(key, value);
        if (section is not null) ValidateSection(section);
        // Workbench would read only what comes before the '#': refuse rather than write what it cannot read.
        if (Dialect.InlineComments && (value.Contains('#') || key.Contains('#') || section?.Contains('#') == true))
            throw new WbException("InvalidConfigValue", WbErrorCategory.InvalidArgument,
                $"'{SafeText.Quote(key)}' cannot be set in {FilePath}: its value, key or section contains '#', which Workbench reads " +
                "(boost's config-file rules) as the start of a comment, so it would read only what comes before it.", key);

        if (Dialect.Syntax is ConfigSyntax.Dcf or ConfigSyntax.List)
            throw new WbException("ConfigNotEditable", WbErrorCategory.InvalidOperation,
                $"{FilePath} is not a key=value file: it is not edited here.", FilePath);
        if (section is not null && Dialect.RepeatableSections.Contains(section) && Sections(section).Count > 1)
            throw new WbException("InvalidConfigSection", WbErrorCategory.InvalidArgument,
                $"[{SafeText.Quote(section)}] appears more than once in {FilePath}: which one to change is ambiguous, so nothing was changed.", section);
        if (FindAll(section, key).Skip(1).Any())
            throw new WbException("InvalidConfigKey", WbErrorCategory.InvalidArgument,
                $"'{SafeText.Quote(key)}' is given more than once in {FilePath}: which one to change is ambiguous, so nothing was changed.", key);
        var existing = Find(section, key);
        if (existing is not null)
        {
            if (existing.Value == value) return false;
            existing.ReplaceValue(value);
            return true;
        }

        var separator = PreferredSeparator();
        var newline = PreferredNewline();
        var insertAt = InsertionIndex(section);
        var toInsert = new List<string>();
        if (insertAt < 0)
        {
            // The section does not exist yet: add it at the end, after a blank line when the file has content.
            insertAt = _lines.Count;
            if (_lines.Count > 0 && _lines[^1].Kind != ConfigLineKind.Blank) toInsert.Add("");
            toInsert.Add($"[{section}]");
        }
        toInsert.Add($"{key}{separator}{value}");
        InsertLines(insertAt, toInsert, newline);
        return true;
    }

    /// <summary>Removes a key's line. Returns false when the key was not there.</summary>
    public bool Remove(string? section, string key)
    {
        var existing = Find(section, key);
        if (existing is null) return false;
        var index = _lines.IndexOf(existing);
        // Keep a missing final newline missing: the new last line takes over the removed line's terminator.
        if (index == _lines.Count - 1 && index > 0) _lines[index - 1].Terminator = existing.Terminator;
        _lines.RemoveAt(index);
        Renumber();
        return true;
    }

    private void InsertLines(int index, List<string> texts, string newline)
    {
        // Inserting after a last line that has no newline: it gets one, and the file still ends without one.
        var endsFile = index == _lines.Count;
        var trailingTerminator = newline;
        if (endsFile && _lines.Count > 0 && _lines[^1].Terminator.Length == 0)
        {
            _lines[^1].Terminator = newline;
            trailingTerminator = "";
        }

        var cursor = new Cursor
        {
            Section = index > 0 ? _lines[index - 1].Section : null,
            Instance = index > 0 ? _lines[index - 1].Instance : 0,
        };
        var parsed = new List<ConfigLine>();
        for (var i = 0; i < texts.Count; i++)
        {
            var terminator = endsFile && i == texts.Count - 1 ? trailingTerminator : newline;
            parsed.Add(Classify(FilePath, Dialect, 0, texts[i], terminator, ref cursor));
        }

        _lines.InsertRange(index, parsed);
        Renumber();
    }

    private void Renumber()
    {
        for (var i = 0; i < _lines.Count; i++) _lines[i].Number = i + 1;
    }

    /// <summary>Where a new key of <paramref name="section"/> goes: after its last non-blank line; -1 if the section is absent.</summary>
    private int InsertionIndex(string? section)
    {
        var lastContent = -1;
        var inSection = section is null;
        var seen = section is null;
        var firstHeader = -1;
        for (var i = 0; i < _lines.Count; i++)
        {
            var line = _lines[i];
            if (line.Kind == ConfigLineKind.Section)
            {
                if (firstHeader < 0) firstHeader = i;
                inSection = line.Section == section;
                seen |= inSection;
                continue;
            }
            if (inSection && line.Kind != ConfigLineKind.Blank) lastContent = i;
        }
        if (!seen) return -1;
        if (lastContent >= 0) return lastContent + 1;
        if (section is null) return 0;
        // An empty section: right after its (last) header.
        for (var i = _lines.Count - 1; i >= 0; i--)
        {
            if (_lines[i].Kind == ConfigLineKind.Section && _lines[i].Section == section) return i + 1;
        }
        return _lines.Count;
    }

    private string PreferredSeparator()
    {
        int spaced = 0, tight = 0;
        foreach (var line in _lines)
        {
            if (line.Kind != ConfigLineKind.Entry) continue;
            if (line.Text.Contains(" = ", StringComparison.Ordinal)) spaced++; else tight++;
        }
        return spaced > tight ? " = " : "=";
    }

    private string PreferredNewline()
    {
        int crlf = 0, lf = 0;
        foreach (var line in _lines)
        {
            if (line.Terminator == "\r\n") crlf++;
            else if (line.Terminator == "\n") lf++;
        }
        return crlf > lf ? "\r\n" : "\n";
    }

    internal static void ValidateKey(string key)
    {
        if (string.IsNullOrWhiteSpace(key) || key != key.Trim() || key.IndexOfAny(['=', '\r', '\n']) >= 0 ||
            key[0] == '#' || key[0] == '[')
        {
            throw new WbException("InvalidConfigKey", WbErrorCategory.InvalidArgument,
                $"'{SafeText.Quote(key)}' is not a valid configuration key (no '=', line break, surrounding white space, or leading '#' or '[').", key);
        }
    }

    internal static void ValidateValue(string key, string value)
    {
        // The value is not quoted: it may be a password.
        if (value.IndexOfAny(['\r', '\n']) >= 0 || value != value.Trim())
        {
            throw new WbException("InvalidConfigValue", WbErrorCategory.InvalidArgument,
                $"The value for '{SafeText.Quote(key)}' cannot be stored: values are one line with no surrounding white space.", key);
        }
    }

    private static void ValidateSection(string section)
    {
        if (string.IsNullOrWhiteSpace(section) || section != section.Trim() || section.IndexOfAny(['[', ']', '\r', '\n']) >= 0)
        {
            throw new WbException("InvalidConfigSection", WbErrorCategory.InvalidArgument,
                $"'{SafeText.Quote(section)}' is not a valid section name.", section);
        }
    }
}
