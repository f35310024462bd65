using System.Reflection;

namespace WorkbenchAdmin.ModuleTools;

public sealed record ParameterMetadata(
    string Name,
    Type Type,
    bool Mandatory,
    int? Position,
    bool ValueFromPipeline,
    bool ValueFromPipelineByPropertyName,
    string ParameterSet,
    IReadOnlyList<string> Aliases,
    Type? CompleterType,
    IReadOnlyList<string> ValidateSet)
{
    public bool IsSwitch => Type.FullName == "System.Management.Automation.SwitchParameter";
    public const string AllSets = "__AllParameterSets";
}

public sealed record CmdletMetadata(
    string Verb,
    string Noun,
    Type Type,
    bool SupportsShouldProcess,
    string? ConfirmImpact,
    string? DefaultParameterSet,
    IReadOnlyList<Type> OutputTypes,
    IReadOnlyList<ParameterMetadata> Parameters)
{
    public string Name => $"{Verb}-{Noun}";

    /// <summary>Parameter set names this cmdlet declares (the implicit set when none is named).</summary>
    public IReadOnlyList<string> ParameterSets
    {
        get
        {
            var named = Parameters.Select(p => p.ParameterSet).Where(s => s != ParameterMetadata.AllSets).Distinct().ToList();
            return named.Count > 0 ? named : [ParameterMetadata.AllSets];
        }
    }

    public IEnumerable<ParameterMetadata> ParametersIn(string set) =>
        Parameters.Where(p => p.ParameterSet == set || p.ParameterSet == ParameterMetadata.AllSets)
                  .OrderBy(p => p.Position ?? int.MaxValue).ThenBy(p => !p.Mandatory);
}

/// <summary>
/// The cmdlets of the compiled module, read through a MetadataLoadContext. PowerShellStandard's reference
/// assembly cannot be loaded for execution (and its attribute constructors have empty bodies), so every
/// fact comes from <see cref="CustomAttributeData"/>, never from instantiated attributes.
/// </summary>
public sealed class ModuleMetadata : IDisposable
{
    private const string Sma = "System.Management.Automation.";
    private readonly MetadataLoadContext _context;

    private ModuleMetadata(MetadataLoadContext context, Assembly cmdlets, IReadOnlyList<CmdletMetadata> list)
    {
        _context = context;
        CmdletAssembly = cmdlets;
        Cmdlets = list;
    }

    public Assembly CmdletAssembly { get; }
    public IReadOnlyList<CmdletMetadata> Cmdlets { get; }

    /// <summary>The reference System.Management.Automation.dll shipped in this tool's output (psref/).</summary>
    public static string DefaultSmaReferencePath
    {
        get
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "psref", "System.Management.Automation.dll");
            if (File.Exists(beside)) return beside;
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                           ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(packages, "powershellstandard.library", "5.1.0-preview-06", "lib", "netstandard2.0", "System.Management.Automation.dll");
        }
    }

    public static ModuleMetadata Load(string cmdletAssemblyPath, string? smaReferencePath = null)
    {
        smaReferencePath ??= DefaultSmaReferencePath;
        if (!File.Exists(smaReferencePath)) throw new FileNotFoundException("PowerShellStandard's reference assembly was not found", smaReferencePath);
        var runtime = Directory.GetFiles(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "*.dll");
        var beside = Directory.GetFiles(Path.GetDirectoryName(Path.GetFullPath(cmdletAssemblyPath))!, "*.dll")
            .Where(p => !Path.GetFileName(p).Equals("System.Management.Automation.dll", StringComparison.OrdinalIgnoreCase));
        // Assemblies beside the cmdlets win over same-named runtime ones (they are what the module ships).
        var paths = beside.Concat(runtime).Append(smaReferencePath)
            .GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase).Select(g => g.First());
        var context = new MetadataLoadContext(new PathAssemblyResolver(paths), "System.Private.CoreLib");
        var assembly = context.LoadFromAssemblyPath(Path.GetFullPath(cmdletAssemblyPath));
        var cmdlets = assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && Attribute(t, "CmdletAttribute") is not null)
            .Select(Read)
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
        return new ModuleMetadata(context, assembly, cmdlets);
    }

    /// <summary>Every type deriving from Cmdlet, with or without a [Cmdlet] attribute.</summary>
    public IEnumerable<Type> CmdletClasses() =>
        CmdletAssembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false } && DerivesFrom(t, Sma + "Cmdlet"));

    public static bool DerivesFrom(Type type, string fullName)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (t.FullName == fullName) return true;
        return false;
    }

    public static bool Implements(Type type, string interfaceFullName) =>
        type.GetInterfaces().Any(i => i.FullName == interfaceFullName);

    /// <summary>The approved verbs: the constants of PowerShell's Verbs* classes.</summary>
    public IReadOnlySet<string> ApprovedVerbs()
    {
        var sma = _context.GetAssemblies().First(a => a.GetName().Name == "System.Management.Automation");
        return sma.GetTypes()
            .Where(t => t.Namespace == "System.Management.Automation" && t.Name.StartsWith("Verbs", StringComparison.Ordinal) && t.IsAbstract && t.IsSealed)
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>PowerShell's ErrorCategory as name → value.</summary>
    public IReadOnlyDictionary<string, int> ErrorCategories()
    {
        var sma = _context.GetAssemblies().First(a => a.GetName().Name == "System.Management.Automation");
        var type = sma.GetType(Sma + "ErrorCategory", throwOnError: true)!;
        return type.GetFields(BindingFlags.Public | BindingFlags.Static).ToDictionary(f => f.Name, f => Convert.ToInt32(f.GetRawConstantValue()));
    }

    /// <summary>A type of the module (or its dependencies) by full name, for checking format views.</summary>
    public Type? FindType(string fullName)
    {
        foreach (var assembly in _context.GetAssemblies())
        {
            var t = assembly.GetType(fullName);
            if (t is not null) return t;
        }
        foreach (var reference in CmdletAssembly.GetReferencedAssemblies())
        {
            try
            {
                var t = _context.LoadFromAssemblyName(reference).GetType(fullName);
                if (t is not null) return t;
            }
            catch (FileNotFoundException) { }
        }
        return null;
    }

    private static CmdletMetadata Read(Type type)
    {
        var cmdlet = Attribute(type, "CmdletAttribute")!;
        var parameters = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Concat(DynamicParameterProperties(type))
            .SelectMany(ReadParameters)
            .ToList();
        var outputs = type.GetCustomAttributesData()
            .Where(a => a.AttributeType.FullName == Sma + "OutputTypeAttribute")
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : [arg.Value])
            .OfType<Type>()
            .ToList();
        return new CmdletMetadata(
            (string)cmdlet.ConstructorArguments[0].Value!,
            (string)cmdlet.ConstructorArguments[1].Value!,
            type,
            Named<bool>(cmdlet, "SupportsShouldProcess"),
            NamedEnum(cmdlet, "ConfirmImpact"),
            Named<string>(cmdlet, "DefaultParameterSetName"),
            outputs,
            parameters);
    }

    /// <summary>
    /// The parameters of a cmdlet's dynamic-parameter objects: a cmdlet implementing IDynamicParameters holds the object
    /// GetDynamicParameters returns in a field (WorkbenchAdmin's PolicyOptionParameters), whose [Parameter] properties
    /// PowerShell binds as if the cmdlet declared them.
    /// </summary>
    private static IEnumerable<PropertyInfo> DynamicParameterProperties(Type type)
    {
        if (!Implements(type, Sma + "IDynamicParameters")) yield break;
        for (var t = type; t is not null; t = t.BaseType)
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
                foreach (var property in field.FieldType.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                    if (property.GetCustomAttributesData().Any(a => a.AttributeType.FullName == Sma + "ParameterAttribute"))
                        yield return property;
    }

    private static IEnumerable<ParameterMetadata> ReadParameters(PropertyInfo property)
    {
        var data = property.GetCustomAttributesData();
        var aliases = data.Where(a => a.AttributeType.FullName == Sma + "AliasAttribute")
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => (string)m.Value!) : [(string)arg.Value!])
            .ToList();
        var completer = data.FirstOrDefault(a => a.AttributeType.FullName == Sma + "ArgumentCompleterAttribute")?.ConstructorArguments
            .Select(a => a.Value).OfType<Type>().FirstOrDefault();
        var validateSet = data.Where(a => a.AttributeType.FullName == Sma + "ValidateSetAttribute")
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => (string)m.Value!) : [])
            .ToList();
        foreach (var p in data.Where(a => a.AttributeType.FullName == Sma + "ParameterAttribute"))
        {
            var position = Named<int?>(p, "Position");
            yield return new ParameterMetadata(
                property.Name,
                property.PropertyType,
                Named<bool>(p, "Mandatory"),
                position is int.MinValue ? null : position,
                Named<bool>(p, "ValueFromPipeline"),
                Named<bool>(p, "ValueFromPipelineByPropertyName"),
                Named<string>(p, "ParameterSetName") ?? ParameterMetadata.AllSets,
                aliases,
                completer,
                validateSet);
        }
    }

    private static CustomAttributeData? Attribute(MemberInfo member, string name) =>
        member.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == Sma + name);

    private static CustomAttributeTypedArgument? NamedArgument(CustomAttributeData data, string name)
    {
        foreach (var arg in data.NamedArguments)
            if (arg.MemberName == name) return arg.TypedValue;
        return null;
    }

    private static T? Named<T>(CustomAttributeData data, string name) =>
        NamedArgument(data, name) is { } arg ? (T?)arg.Value : default;

    private static string? NamedEnum(CustomAttributeData data, string name)
    {
        if (NamedArgument(data, name) is not { } arg) return null;
        var type = arg.ArgumentType;
        var value = Convert.ToInt64(arg.Value);
        return type.GetFields(BindingFlags.Public | BindingFlags.Static).FirstOrDefault(f => Convert.ToInt64(f.GetRawConstantValue()) == value)?.Name;
    }

    public void Dispose() => _context.Dispose();
}
