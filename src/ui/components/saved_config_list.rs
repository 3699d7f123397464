//! Saving the current config under a name, and loading or deleting saved ones.

use leptos::prelude::*;

use crate::ui::config_form::ConfigForm;
use crate::ui::saved_configs::{self, Deleted, SavedConfig};

use super::notice::ErrorText;

/// The save box and the list of saved configs.
#[component]
pub fn SavedConfigList() -> impl IntoView {
    let form = expect_context::<ConfigForm>();
    let valid_config = form.valid_config();
    let (error, set_error) = signal(None::<String>);
    let (status, set_status) = signal(None::<String>);
    let initial = match saved_configs::list() {
        Ok(list) => list,
        Err(e) => {
            set_error.set(Some(e.to_string()));
            Vec::new()
        }
    };
    let (entries, set_entries) = signal(initial);
    let (name, set_name) = signal(String::new());
    // The last delete, offered for undo until another save, load or delete: a config is one
    // click from gone, and its name is often all a user remembers of it.
    let (undo, set_undo) = signal(None::<Deleted>);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(config) = valid_config.get_untracked() else {
            return;
        };
        let chosen = name.get_untracked();
        match saved_configs::save(&chosen, &config) {
            Ok(list) => {
                set_entries.set(list);
                set_error.set(None);
                set_status.set(Some(format!("Saved “{}”.", chosen.trim())));
                set_undo.set(None);
                set_name.set(String::new());
            }
            Err(e) => set_error.set(Some(e.to_string())),
        }
    };
    let load = move |entry: &SavedConfig| match entry.config() {
        Ok(config) => {
            form.replace(&config);
            set_error.set(None);
            set_status.set(Some(format!("Loaded “{}” into the form.", entry.name)));
            set_undo.set(None);
        }
        Err(e) => set_error.set(Some(e.to_string())),
    };
    let delete = move |entry_name: &str| match saved_configs::delete(entry_name) {
        Ok((list, deleted)) => {
            set_entries.set(list);
            set_error.set(None);
            set_status.set(Some(format!("Deleted “{entry_name}”.")));
            set_undo.set(deleted);
        }
        Err(e) => set_error.set(Some(e.to_string())),
    };
    let undo_delete = move |_| {
        let Some(deleted) = undo.get_untracked() else {
            return;
        };
        let name = deleted.entry.name.clone();
        match saved_configs::restore(deleted) {
            Ok(list) => {
                set_entries.set(list);
                set_error.set(None);
                set_status.set(Some(format!("Restored “{name}”.")));
                set_undo.set(None);
            }
            Err(e) => set_error.set(Some(e.to_string())),
        }
    };

    view! {
        <section class="card" aria-labelledby="saved-title">
            <h2 class="section-label" id="saved-title">"Saved configs"</h2>
            <form class="inline-form" on:submit=save>
                <label class="visually-hidden" for="save-name">"Name to save under"</label>
                <input id="save-name" class="input" placeholder="Name" autocomplete="off"
                    prop:value=name on:input=move |ev| set_name.set(event_target_value(&ev))/>
                <button type="submit" class="btn"
                    disabled=move || valid_config.with(|c| c.is_none()) || name.with(|n| n.trim().is_empty())
                    title=move || valid_config.with(|c| c.is_none()).then_some("Fix the form's errors to save")>
                    "Save"
                </button>
            </form>
            {move || error.get().map(|e| view! { <ErrorText message=e/> })}
            {move || status.get().map(|s| view! {
                <p class="ok-text" role="status">
                    {s}
                    {move || undo.with(Option::is_some).then(|| view! {
                        " "
                        <button type="button" class="btn btn-ghost btn-sm" data-testid="saved-config-undo"
                            on:click=undo_delete>"Undo"</button>
                    })}
                </p>
            })}
            <Show
                when=move || entries.with(|e| !e.is_empty())
                fallback=|| view! { <p class="muted saved-empty">"Nothing saved yet. Saved configs stay in this browser."</p> }
            >
                <ul class="saved-list">
                    <For each=move || entries.get() key=|e| (e.name.clone(), e.saved_at.clone()) let:entry>
                        {
                            let for_load = entry.clone();
                            let for_delete = entry.name.clone();
                            let date = entry.saved_at.get(..10).unwrap_or_default().to_string();
                            view! {
                                <li class="saved-item">
                                    <div class="saved-meta">
                                        <span class="saved-name">{entry.name.clone()}</span>
                                        <span class="muted mono">{entry.hash.clone()} " · " {date}</span>
                                    </div>
                                    <div class="saved-actions">
                                        <button type="button" class="btn btn-sm"
                                            aria-label=format!("Load {}", entry.name)
                                            on:click=move |_| load(&for_load)>"Load"</button>
                                        <button type="button" class="btn btn-ghost btn-sm btn-danger"
                                            data-testid="saved-config-delete"
                                            aria-label=format!("Delete {}", entry.name)
                                            on:click=move |_| delete(&for_delete)>"Delete"</button>
                                    </div>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </Show>
        </section>
    }
}
