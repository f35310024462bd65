# PSScriptAnalyzer settings for every shipped or user-facing script of the repository: build.ps1, the
# examples, the module's root script and manifest, and the Pester suites. module/tests/WorkbenchAdmin.Analyzer.Tests.ps1
# runs them on each file (Invoke-ScriptAnalyzer -Settings ./PSScriptAnalyzerSettings.psd1); so can an editor.
@{
    Severity            = @('Warning', 'Error')
    IncludeDefaultRules = $true
    # No rule is excluded: findings are fixed in the scripts themselves.
    ExcludeRules        = @()
    Rules               = @{
        # The manifest requires PowerShell 7.4; flag syntax that an older 7.x could not parse.
        PSUseCompatibleSyntax = @{
            Enable         = $true
            TargetVersions = @('7.0')
        }
    }
}
