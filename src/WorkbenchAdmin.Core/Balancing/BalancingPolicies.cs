using WorkbenchAdmin.Core.Balancing.Custom;
using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Balancing;

/// <summary>
/// The one registry of balancing policies, picked by name. Workbench's four methods (valid for
/// <c>balancer=</c>) and ours, which only the module's own balancer program runs. Adding a policy is one
/// class with a Name, its Options, a Create(PolicyOptions) and an Explain, plus a line here; adding an option
/// is a line in the policy's Options (then one cmdlet parameter and its help).
/// </summary>
public static class BalancingPolicies
{
    private sealed record Entry(string Name, IReadOnlyList<PolicyOption> Options, Func<PolicyOptions, IBalancingPolicy> Create);

    private static readonly Entry[] Registry =
    [
        new(BalancingMethods.Sessions, [], SessionsPolicy.Create),
        new(BalancingMethods.SystemLoad, [], SystemLoadPolicy.Create),
        new(BalancingMethods.UserHash, [], UserHashPolicy.Create),
        new(BalancingMethods.Custom, CustomScriptPolicy.Options, CustomScriptPolicy.Create),
        new(ConsistentHashPolicy.PolicyName, [], ConsistentHashPolicy.Create),
        new(BoundedHashPolicy.PolicyName, BoundedHashPolicy.Options, BoundedHashPolicy.Create),
    ];

    // Array methods, not LINQ chains, for these lists: the balancer program (NativeAOT) builds them in every decision,
    // and chained LINQ operators are resolved at run time there.
    private static readonly string[] RegistryNames = Array.ConvertAll(Registry, r => r.Name);
    private static readonly PolicyOption[] AllOptions = OptionsOf(Registry);

    public static IReadOnlyList<string> Names { get; } = RegistryNames;

    /// <summary>The methods the balancer program can run: every policy but <c>custom</c>, which is the program itself.</summary>
    public static IReadOnlyList<string> ProgramMethods { get; } = Array.FindAll(RegistryNames, n => n != BalancingMethods.Custom);

    /// <summary>The policy the balancer program falls back to when it cannot use its configured one.</summary>
    public const string FallbackMethod = ConsistentHashPolicy.PolicyName;

    /// <summary>Every policy's options, in registry order.</summary>
    public static IReadOnlyList<PolicyOption> Options { get; } = AllOptions;

    /// <summary>The options the balancer program's settings file holds (those with a [balancer] key).</summary>
    public static IReadOnlyList<PolicyOption> ProgramOptions { get; } = Array.FindAll(AllOptions, o => o.Key is not null);

    private static PolicyOption[] OptionsOf(Entry[] registry)
    {
        var all = new List<PolicyOption>();
        foreach (var entry in registry) all.AddRange(entry.Options);
        return [.. all];
    }

    /// <summary>The option behind cmdlet parameter <paramref name="parameter"/>; an unknown one is a programming error.</summary>
    public static PolicyOption Option(string parameter) =>
        Options.FirstOrDefault(o => string.Equals(o.Parameter, parameter, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"No policy takes the option -{parameter}.", nameof(parameter));

    /// <summary>Names starting with <paramref name="prefix"/> (case-insensitive), for tab completion.</summary>
    public static IEnumerable<string> Complete(string? prefix) =>
        Completion.StartingWith(Names, prefix);

    /// <summary>
    /// The policy named <paramref name="method"/>; an unknown name is an error, never a default. With
    /// <paramref name="stickyTo"/>, the sticky option: a user running sessions on an eligible node gets the next one there.
    /// </summary>
    public static IBalancingPolicy Create(string method, PolicyOptions? options = null, UserSessions? stickyTo = null)
    {
        var name = method?.Trim().ToLowerInvariant() ?? "";
        foreach (var entry in Registry)
            if (entry.Name == name)
            {
                var policy = entry.Create(options ?? PolicyOptions.Default);
                return stickyTo is null ? policy : new StickyPolicy(policy, stickyTo);
            }
        throw new WbException("InvalidBalancingMethod", WbErrorCategory.InvalidArgument,
            $"-Method '{SafeText.Quote(method)}' is not a balancing method; use one of {string.Join(", ", Names)}.", method);
    }

    /// <summary>
    /// The module's settings with the policy's own values of the [balancer] section checked: the method (one the
    /// program can run) and every option. <see cref="ModuleSettings"/> reads them raw; what they may be is the
    /// policies'. A bad value names the file and line; with <paramref name="errors"/> it is added there, keyed by
    /// its setting, and that setting keeps its default, as <see cref="ModuleSettings.From"/> does.
    /// </summary>
    public static ModuleSettings Checked(ModuleSettings settings, IDictionary<string, ConfigFormatException>? errors = null)
    {
        T Read<T>(string key, Func<T> read, T otherwise)
        {
            if (errors is null) return read();
            try { return read(); }
            catch (ConfigFormatException e) { errors.TryAdd(key, e); return otherwise; }
        }
        var doc = settings.Document;
        var balancer = settings.Balancer;
        var method = balancer.Method;
        if (doc?.Find(ModuleSettings.BalancerSection, ModuleSettings.MethodKey) is { } methodLine && !ProgramMethods.Contains(method))
            method = Read(ModuleSettings.MethodKey, () => throw ConfigFormatException.AtValue(doc.FilePath, methodLine,
                $"must be one of {string.Join(", ", ProgramMethods)} (custom would run this program itself)"), Model.BalancerPolicy.DefaultMethod);
        var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var option in ProgramOptions)
        {
            var line = doc?.Find(ModuleSettings.BalancerSection, option.Key!);
            values[option.Parameter] = line is null || string.IsNullOrEmpty(line.Value) ? null : Read(option.Key!, () => option.Read(doc!, line), null);
        }
        return settings with { Balancer = balancer with { Method = method, Options = values } };
    }

    /// <summary><see cref="ModuleSettings.Load"/>, checked: a bad [balancer] value is an error naming the file and line.</summary>
    public static ModuleSettings LoadSettings(ConfigRoot root) => Checked(ModuleSettings.Load(root));

    /// <summary>The options a settings file's policy holds (<see cref="Model.BalancerPolicy.Options"/>), for building it.</summary>
    public static PolicyOptions OptionsOf(Model.BalancerPolicy policy) => PolicyOptions.From(policy.Options);
}
