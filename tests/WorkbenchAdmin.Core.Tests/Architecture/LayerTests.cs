using System.Reflection;
using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Tests.Architecture;

/// <summary>
/// Core's folders are layers: a type may use its own layer's folder and any layer below, never one above,
/// and a capability may use a sibling capability only where <see cref="Across"/> says so and why. Read from
/// the compiled WorkbenchAdmin.Core.dll, so a reference in any method body counts.
/// </summary>
public sealed class LayerTests
{
    /// <summary>Lowest first. A namespace is WorkbenchAdmin.Core.&lt;folder&gt;[.…]; the folder is its layer.</summary>
    public static readonly IReadOnlyList<IReadOnlyList<string>> Layers =
    [
        ["Logging"],        // routes log lines to whoever listens; knows nothing else
        ["Platform"],       // files, processes, sockets, the machine (host name, DNS, clock, connect)
        ["Formats"],        // Workbench's own text formats: the status page, list-nodes output
        ["Configuration"],  // /etc/rstudio and our own settings: reading, editing, secrets
        // The capabilities, each over the layers below:
        ["Hashing", "Balancing", "Store", "Proxies", "Verification", "Simulation", "Live"],
        ["Commands"],       // operations that compose the capabilities for one cmdlet each
    ];

    /// <summary>The only references between sibling capabilities, each with its reason.</summary>
    public static readonly IReadOnlyDictionary<(string From, string To), string> Across = new Dictionary<(string, string), string>
    {
        [("Balancing", "Hashing")] = "the user-hash and consistent-hash policies hash user names with CityHash",
        [("Store", "Balancing")] = "a placement is decided inside the store's transaction, by a policy",
        [("Simulation", "Balancing")] = "the simulator replays a workload through the real policies",
        [("Verification", "Store")] = "cluster checks read the nodes and sessions the store holds",
        [("Verification", "Proxies")] = "Test-WbCluster includes the load balancer's checks",
        [("Verification", "Balancing")] = "checks say whether the configured policy can run (custom script, user-hash)",
        [("Live", "Store")] = "the program Workbench runs reads the store for its candidates",
        [("Live", "Balancing")] = "the program Workbench runs decides with the policies",
    };

    private static readonly Assembly Core = typeof(ConfigDocument).Assembly;

    [Fact]
    public void Every_folder_of_core_has_a_layer()
    {
        var refs = TypeReferences.Read(Core.Location);
        var unplaced = refs.Types.Select(t => Folder(t.Namespace)).Distinct().Where(f => f is not null && LayerOf(f) < 0).ToList();
        Assert.True(unplaced.Count == 0, $"folders with no layer in {nameof(Layers)}: {string.Join(", ", unplaced)}");
    }

    [Fact]
    public void No_reference_runs_up_a_layer_or_across_without_a_reason()
    {
        var violations = Violations(TypeReferences.Read(Core.Location).References);
        Assert.True(violations.Count == 0, "references against the layer order:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_allowed_sideways_references_form_no_cycle()
    {
        foreach (var ((from, to), _) in Across)
        {
            Assert.Equal(LayerOf(from), LayerOf(to));
            Assert.False(Reaches(to, from, []), $"{from} -> {to} closes a cycle");
        }
    }

    [Fact]
    public void The_check_catches_a_reference_up_a_layer_and_an_unlisted_sideways_one()
    {
        TypeReferences.Reference Ref(string from, string to) =>
            new("A", "WorkbenchAdmin.Core." + from, "B", "WorkbenchAdmin.Core." + to);
        Assert.Single(Violations([Ref("Platform", "Configuration")]));
        Assert.Single(Violations([Ref("Store", "Commands.Cluster")]));
        Assert.Single(Violations([Ref("Proxies", "Verification")]));
        Assert.Empty(Violations([Ref("Commands.Cluster", "Platform"), Ref("Live", "Store"), Ref("Store", "Store")]));
    }

    [Fact]
    public void No_public_static_in_core_can_be_changed()
    {
        var found = new List<string>();
        foreach (var type in Core.GetTypes().Where(t => t.IsVisible))
        {
            const BindingFlags flags = BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var f in type.GetFields(flags))
            {
                if (f.IsLiteral) continue;
                if (!f.IsInitOnly) found.Add($"{type.FullName}.{f.Name}: a settable field");
                else if (f.FieldType.IsArray) found.Add($"{type.FullName}.{f.Name}: an array, whose items anyone can change");
            }
            foreach (var p in type.GetProperties(flags))
            {
                if (p.SetMethod is { IsPublic: true }) found.Add($"{type.FullName}.{p.Name}: a public setter");
                else if (p.PropertyType.IsArray) found.Add($"{type.FullName}.{p.Name}: an array, whose items anyone can change");
            }
        }
        Assert.True(found.Count == 0, "public static state in Core:\n" + string.Join("\n", found));
    }

    private static List<string> Violations(IEnumerable<TypeReferences.Reference> references)
    {
        var found = new List<string>();
        foreach (var r in references)
        {
            if (Folder(r.FromNamespace) is not { } from || Folder(r.ToNamespace) is not { } to || from == to) continue;
            int fromLayer = LayerOf(from), toLayer = LayerOf(to);
            if (toLayer < fromLayer) continue;
            if (toLayer == fromLayer && Across.ContainsKey((from, to))) continue;
            found.Add($"{r.FromNamespace}.{r.From} -> {r.ToNamespace}.{r.To} ({(toLayer > fromLayer ? "up a layer" : "across, not in the table")})");
        }
        return found;
    }

    private static string? Folder(string ns)
    {
        const string prefix = "WorkbenchAdmin.Core.";
        if (!ns.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var rest = ns[prefix.Length..];
        var dot = rest.IndexOf('.');
        return dot < 0 ? rest : rest[..dot];
    }

    private static int LayerOf(string folder)
    {
        for (var i = 0; i < Layers.Count; i++)
            if (Layers[i].Contains(folder)) return i;
        return -1;
    }

    private static bool Reaches(string from, string target, HashSet<string> seen)
    {
        if (from == target) return true;
        if (!seen.Add(from)) return false;
        return Across.Keys.Where(k => k.From == from).Any(k => Reaches(k.To, target, seen));
    }
}
