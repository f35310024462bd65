using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace WorkbenchAdmin.ModuleTools;

/// <summary>The editable help of one cmdlet: module/help/&lt;Verb-Noun&gt;.yml. Types, positions and pipeline facts come from the compiled cmdlet.</summary>
public sealed class HelpSource
{
    public string Name { get; set; } = "";
    public string Synopsis { get; set; } = "";
    public string Description { get; set; } = "";
    public Dictionary<string, string> Parameters { get; set; } = [];
    public List<HelpExample> Examples { get; set; } = [];
    public string? Inputs { get; set; }
    public string? Notes { get; set; }
    public List<string> Links { get; set; } = [];

    public static IReadOnlyList<HelpSource> LoadDirectory(string directory)
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        var list = new List<HelpSource>();
        foreach (var file in Directory.GetFiles(directory, "*.yml").Order(StringComparer.Ordinal))
        {
            try
            {
                var source = deserializer.Deserialize<HelpSource>(File.ReadAllText(file));
                if (source.Name != Path.GetFileNameWithoutExtension(file))
                    throw new InvalidDataException($"{file}: 'name' is '{source.Name}' but the file is named for '{Path.GetFileNameWithoutExtension(file)}'");
                list.Add(source);
            }
            catch (YamlException e)
            {
                throw new InvalidDataException($"{file}:{e.Start.Line}:{e.Start.Column}: {e.Message}", e);
            }
        }
        return list;
    }
}

public sealed class HelpExample
{
    public string Title { get; set; } = "";
    public string Code { get; set; } = "";
    public string Remarks { get; set; } = "";
}
