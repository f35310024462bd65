using System.Xml.Linq;

namespace WorkbenchAdmin.ModuleTools;

/// <summary>Writes PowerShell's MAML help (the dll-Help.xml Get-Help reads) from help sources and cmdlet metadata.</summary>
public static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    /// <summary>Every problem that keeps the help from covering the module; empty when complete.</summary>
    public static IReadOnlyList<string> Check(IReadOnlyList<CmdletMetadata> cmdlets, IReadOnlyList<HelpSource> sources)
    {
        var problems = new List<string>();
        var byName = sources.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var cmdlet in cmdlets)
        {
            if (!byName.TryGetValue(cmdlet.Name, out var help)) { problems.Add($"{cmdlet.Name}: no module/help/{cmdlet.Name}.yml"); continue; }
            if (string.IsNullOrWhiteSpace(help.Synopsis)) problems.Add($"{cmdlet.Name}: empty synopsis");
            if (string.IsNullOrWhiteSpace(help.Description)) problems.Add($"{cmdlet.Name}: empty description");
            if (help.Examples.Count == 0) problems.Add($"{cmdlet.Name}: no example");
            foreach (var p in cmdlet.Parameters.Select(p => p.Name).Distinct())
                if (string.IsNullOrWhiteSpace(help.ParameterHelp(p))) problems.Add($"{cmdlet.Name}: parameter -{p} is not documented");
            foreach (var p in help.Parameters.Keys.Except(cmdlet.Parameters.Select(p => p.Name)))
                problems.Add($"{cmdlet.Name}: help documents -{p}, which the cmdlet does not have");
            foreach (var link in help.Links.Where(l => !l.StartsWith("about_", StringComparison.Ordinal) && !l.StartsWith("http", StringComparison.Ordinal)))
                if (cmdlets.All(c => c.Name != link)) problems.Add($"{cmdlet.Name}: link to unknown cmdlet {link}");
        }
        foreach (var orphan in sources.Select(s => s.Name).Except(cmdlets.Select(c => c.Name)))
            problems.Add($"module/help/{orphan}.yml documents a cmdlet the module does not have");
        return problems;
    }

    public static string Write(IReadOnlyList<CmdletMetadata> cmdlets, IReadOnlyList<HelpSource> sources)
    {
        var byName = sources.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var root = new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
            new XAttribute(XNamespace.Xmlns + "maml", Maml), new XAttribute(XNamespace.Xmlns + "command", Command), new XAttribute(XNamespace.Xmlns + "dev", Dev),
            cmdlets.Select(c => CommandElement(c, byName[c.Name])));
        var doc = new XDocument(new XDeclaration("1.0", "utf-8", null), root);
        using var writer = new Utf8StringWriter();
        doc.Save(writer);
        return writer.ToString().Replace("\r\n", "\n") + "\n";
    }

    private sealed class Utf8StringWriter : StringWriter
    {
        public override System.Text.Encoding Encoding => new System.Text.UTF8Encoding(false);
    }

    private static XElement CommandElement(CmdletMetadata c, HelpSource help) =>
        new(Command + "command",
            new XElement(Command + "details",
                new XElement(Command + "name", c.Name),
                Paragraphs(help.Synopsis, Maml + "description"),
                new XElement(Command + "verb", c.Verb),
                new XElement(Command + "noun", c.Noun)),
            Paragraphs(help.Description, Maml + "description"),
            new XElement(Command + "syntax", c.ParameterSets.Select(set =>
                new XElement(Command + "syntaxItem",
                    new XElement(Maml + "name", c.Name),
                    c.ParametersIn(set).Select(p => ParameterElement(p, help, includeType: false))))),
            new XElement(Command + "parameters", c.Parameters.GroupBy(p => p.Name).Select(g => ParameterElement(g.First(), help, includeType: true))),
            new XElement(Command + "inputTypes", new XElement(Command + "inputType",
                new XElement(Dev + "type", new XElement(Maml + "name", help.Inputs ?? InputsOf(c))))),
            new XElement(Command + "returnValues", c.OutputTypes.Select(t =>
                new XElement(Command + "returnValue", new XElement(Dev + "type", new XElement(Maml + "name", t.FullName))))),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paragraphs(help.Notes ?? "", null))),
            new XElement(Command + "examples", help.Examples.Select((e, i) =>
                new XElement(Command + "example",
                    new XElement(Maml + "title", $"-------------------------- Example {i + 1}: {e.Title} --------------------------"),
                    new XElement(Dev + "code", e.Code.TrimEnd()),
                    new XElement(Dev + "remarks", Paras(e.Remarks))))),
            new XElement(Maml + "relatedLinks", help.Links.Select(l =>
                new XElement(Maml + "navigationLink",
                    new XElement(Maml + "linkText", l.StartsWith("http", StringComparison.Ordinal) ? "Online" : l),
                    new XElement(Maml + "uri", l.StartsWith("http", StringComparison.Ordinal) ? l : "")))));

    private static string InputsOf(CmdletMetadata c)
    {
        var piped = c.Parameters.Where(p => p.ValueFromPipeline || p.ValueFromPipelineByPropertyName).Select(p => p.Name).Distinct().ToList();
        return piped.Count == 0 ? "None" : "Objects with property " + string.Join(", ", piped);
    }

    private static XElement ParameterElement(ParameterMetadata p, HelpSource help, bool includeType)
    {
        var pipeline = p.ValueFromPipeline && p.ValueFromPipelineByPropertyName ? "True (ByValue, ByPropertyName)"
            : p.ValueFromPipeline ? "True (ByValue)" : p.ValueFromPipelineByPropertyName ? "True (ByPropertyName)" : "False";
        var typeName = p.IsSwitch ? "SwitchParameter" : p.Type.Name;
        var element = new XElement(Command + "parameter",
            new XAttribute("required", p.Mandatory ? "true" : "false"),
            new XAttribute("variableLength", "true"),
            new XAttribute("globbing", "false"),
            new XAttribute("pipelineInput", pipeline),
            new XAttribute("position", p.Position?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "named"),
            new XAttribute("aliases", p.Aliases.Count == 0 ? "none" : string.Join(", ", p.Aliases)),
            new XElement(Maml + "name", p.Name),
            Paragraphs(help.ParameterHelp(p.Name) ?? "", Maml + "description"));
        if (!p.IsSwitch) element.Add(new XElement(Command + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", "false"), typeName));
        if (includeType) element.Add(new XElement(Dev + "type", new XElement(Maml + "name", p.Type.FullName)));
        return element;
    }

    private static object Paragraphs(string text, XName? wrapper)
    {
        var paras = Paras(text);
        return wrapper is null ? paras : new XElement(wrapper, paras);
    }

    private static IEnumerable<XElement> Paras(string text) =>
        text.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => new XElement(Maml + "para", string.Join(" ", p.Split('\n', StringSplitOptions.TrimEntries))));
}
