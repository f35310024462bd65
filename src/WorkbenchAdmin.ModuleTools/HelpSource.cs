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

    /// <summary>
    /// Parameters documented once for every cmdlet that has them (module/help/shared/*.yml, such as the policy options);
    /// a cmdlet's own text for one wins.
    /// </summary>
    [YamlIgnore]
    public IReadOnlyDictionary<string, string> SharedParameters { get; set; } = new Dictionary<string, string>();

    /// <summary>The help of parameter <paramref name="name"/>: the cmdlet's own, else the shared one; null when undocumented.</summary>
    public string? ParameterHelp(string name) =>
        Parameters.TryGetValue(name, out var own) ? own : SharedParameters.GetValueOrDefault(name);

    public static IReadOnlyList<HelpSource> LoadDirectory(string directory)
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        var list = new List<HelpSource>();
        var shared = new Dictionary<string, string>(StringComparer.Ordinal);
        var sharedDir = Path.Combine(directory, "shared");
        foreach (var file in (Directory.Exists(sharedDir) ? Directory.GetFiles(sharedDir, "*.yml") : []).Order(StringComparer.Ordinal))
        {
            try
            {
                foreach (var (name, text) in deserializer.Deserialize<SharedHelp>(File.ReadAllText(file)).Parameters)
                    if (!shared.TryAdd(name, text)) throw new InvalidDataException($"{file}: -{name} is documented in another shared file too");
            }
            catch (YamlException e)
            {
                throw new InvalidDataException($"{file}:{e.Start.Line}:{e.Start.Column}: {e.Message}", e);
            }
        }
        foreach (var file in Directory.GetFiles(directory, "*.yml").Order(StringComparer.Ordinal))
        {
            try
            {
                var source = deserializer.Deserialize<HelpSource>(File.ReadAllText(file));
                if (source.Name != Path.GetFileNameWithoutExtension(file))
                    throw new InvalidDataException($"{file}: 'name' is '{source.Name}' but the file is named for '{Path.GetFileNameWithoutExtension(file)}'");
                source.SharedParameters = shared;
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

/// <summary>module/help/shared/*.yml: parameter texts for every cmdlet that has the parameter.</summary>
public sealed class SharedHelp
{
    public Dictionary<string, string> Parameters { get; set; } = [];
}

public sealed class HelpExample
{
    public string Title { get; set; } = "";
    public string Code { get; set; } = "";
    public string Remarks { get; set; } = "";
}
