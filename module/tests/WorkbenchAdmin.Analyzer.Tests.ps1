#Requires -Modules Pester, PSScriptAnalyzer
<#
    PSScriptAnalyzer on every shipped or user-facing script of the repository: build.ps1, the manifest, the
    examples, the module's root script and these Pester suites, with the repository's PSScriptAnalyzerSettings.psd1.
    One It per file; a finding fails it with the rule, the line and the message.

    It runs from the repository's module/tests (./build.ps1 -Task Pester points Pester there), so the repository
    root is two levels up.
#>

BeforeDiscovery {
    $repository = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
    $scripts = @(
        Get-Item -LiteralPath (Join-Path $repository 'build.ps1'), (Join-Path $repository 'WorkbenchAdmin.psd1')
        Get-ChildItem -Path (Join-Path $repository 'examples') -Filter '*.ps1'
        Get-ChildItem -Path (Join-Path $repository 'module') -Filter '*.psm1'
        Get-ChildItem -Path (Join-Path $repository 'module' 'tests') -Filter '*.ps1'
        Get-ChildItem -Path (Join-Path $repository 'tests' 'fixtures') -Filter '*.ps1' -Recurse
    )
    # Script scope: the Describe block below reads it during discovery.
    $script:analyzedFiles = foreach ($file in $scripts) {
        @{ Name = [IO.Path]::GetRelativePath($repository, $file.FullName); Path = $file.FullName }
    }
}

BeforeAll {
    $script:repositoryRoot = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
    $script:settingsPath = Join-Path $repositoryRoot 'PSScriptAnalyzerSettings.psd1'
}

Describe 'PSScriptAnalyzer' -Tag 'Analyzer' {
    It 'runs from the repository, where the settings and build.ps1 are' {
        $settingsPath | Should -Exist
        Join-Path $repositoryRoot 'build.ps1' | Should -Exist
        Join-Path $repositoryRoot 'module' 'WorkbenchAdmin.psm1' | Should -Exist
    }

    It '<Name> has no warning or error' -ForEach $analyzedFiles {
        $findings = Invoke-ScriptAnalyzer -Path $Path -Settings $settingsPath -Severity Warning, Error
        $findings | ForEach-Object { "$($_.Severity) $($_.RuleName) at line $($_.Line): $($_.Message)" } | Should -BeNullOrEmpty
    }
}
